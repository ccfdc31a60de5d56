"""OpenAPI as a committed contract: operation ids are the route names, errors are declared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.core.errors import PROBLEM_MEDIA_TYPE, Problem


def operation_id(route: APIRoute) -> str:
    return route.name


Enrichment = Callable[[dict[str, Any]], None]


def build_openapi(app: FastAPI, enrich: Enrichment | None = None) -> dict[str, Any]:
    """The document FastAPI derives, every error declared, then ``enrich``: what only the
    layers above know (the access policy, the themes' closed sets) written in."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(
        "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    for name, definition in (
        Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        .get("$defs", {})
        .items()
    ):
        components.setdefault(name, definition)
    components["Problem"].pop("$defs", None)
    _declare_problems(schema)
    if enrich is not None:
        enrich(schema)
    app.openapi_schema = schema
    return schema


def _problem_response(description: str) -> dict[str, Any]:
    reference = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": reference}}}


def _declare_problems(schema: dict[str, Any]) -> None:
    """Every error is problem+json: FastAPI's own 422 says JSON, and statuses a route cannot
    list (413 from the body limit, 400 for a bad Idempotency-Key) fall under ``default``."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            responses["422"] = _problem_response("Invalid request; `errors` names each field")
            responses.setdefault("default", _problem_response("Any other error, as problem+json"))
    for unused in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(unused, None)
