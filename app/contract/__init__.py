"""The OpenAPI contract made whole: what FastAPI derives from the routes, plus what only the
layers above the routes know (the access policy, the themes' closed sets and fields), so that
a client generated from ``openapi/openapi.json`` works without reading prose."""

from __future__ import annotations

from typing import Any

from app.contract.access import describe
from app.contract.components import declare_components
from app.contract.examples import declare_examples
from app.contract.parameters import declare_closed_sets, declare_filters, declare_idempotency
from app.themes.registry import ThemeRegistry


def enrich_contract(schema: dict[str, Any], themes: ThemeRegistry) -> None:
    declare_components(schema)
    declare_idempotency(schema)
    declare_closed_sets(schema, themes)
    declare_filters(schema, themes)
    declare_examples(schema)
    for path_item in schema["paths"].values():
        for method, operation in path_item.items():
            describe(operation, method)
