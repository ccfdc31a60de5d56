"""The committed OpenAPI document, the access policy's coverage, and migrations vs models."""

from __future__ import annotations

import re
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from openapi_spec_validator import validate
from sqlalchemy import Engine

from app.auth.policy import POLICY
from app.main import ROUTERS
from app.models import metadata
from scripts.export_openapi import TARGET, generate, render

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
# Operations that need no token at all.
PUBLIC_OPERATIONS = frozenset({"issue_token", "read_jwks", "read_health", "read_readiness"})


def _routes() -> list[APIRoute]:
    return [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]


def _policy_operations(dependant: Dependant) -> set[str]:
    found = set()
    for sub in dependant.dependencies:
        # authorize() and the inspection loaders mark the dependency they make.
        if sub.call is not None and (name := getattr(sub.call, "__policy_operation__", None)):
            found.add(name)
        found |= _policy_operations(sub)
    return found


def test_every_route_is_governed_by_its_own_policy_entry() -> None:
    names = [route.name for route in _routes()]
    assert len(names) == len(set(names)), "route names (operation ids) must be unique"
    for route in _routes():
        declared = _policy_operations(route.dependant)
        if route.name in PUBLIC_OPERATIONS:
            assert declared == set(), route.name
            continue
        assert declared == {route.name}, f"{route.name} must declare authorize('{route.name}')"
        assert route.name in POLICY
    assert set(POLICY) | PUBLIC_OPERATIONS == set(names), "policy entries without a route"


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for path_item in document["paths"].values()
        for method, operation in path_item.items()
        if method in {"get", "put", "post", "delete", "patch"}
    ]


def test_committed_openapi_is_current_and_valid() -> None:
    document = generate()
    assert TARGET.read_text() == render(document), "run: python scripts/export_openapi.py"
    validate(document)


def test_operations_are_pleasant_for_generated_clients() -> None:
    document = generate()
    operations = _operations(document)
    ids = [operation["operationId"] for operation in operations]
    assert len(ids) == len(set(ids))
    assert {route.name for route in _routes()} == set(ids), "a route outside ROUTERS"
    for operation in operations:
        name = operation["operationId"]
        assert SNAKE_CASE.match(name), name
        assert operation.get("tags"), name
        assert operation.get("summary"), name
        if name in PUBLIC_OPERATIONS:
            continue
        assert operation.get("security"), f"{name} declares no security requirement"
        for status in ("401", "403"):
            assert status in operation["responses"], f"{name} does not declare {status}"
            content = operation["responses"][status]["content"]
            assert "application/problem+json" in content, name


@pytest.mark.commits
def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []
