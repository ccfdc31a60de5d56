"""One HTTP edge: problems built one way, whoever answers; what a route needs declared on it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from app.auth.issuers import Claims, TokenDecoder
from app.core.config import Settings
from app.core.edge import (
    BodyKind,
    RouteTraits,
    edge,
    flat_routes,
    match_route,
    path_pattern,
    traits_of,
)
from app.core.errors import Problem, render_problem
from app.core.http_server import HeaderLimitedHttpToolsProtocol
from app.core.request_context import reset_request_id, set_request_id
from app.main import create_app
from tests.factories import Factory, World
from tests.list_rows import cin_row


@pytest.fixture
def world(factory: Factory) -> World:
    return factory.world()


PROBLEM_SOURCES: dict[str, Callable[[TestClient, World, Settings], httpx.Response]] = {
    # the app's exception handlers
    "app error": lambda c, w, s: c.get("/v1/nothing-here"),
    "validation": lambda c, w, s: c.post(
        "/v1/organisations", json={"name": "X", "kind": "army"}, headers=w.operator.headers
    ),
    # middlewares, as raw ASGI messages
    "body limit": lambda c, w, s: c.post(
        "/v1/organisations",
        content=b"x" * (s.max_body_bytes + 1),
        headers={**w.operator.headers, "Content-Type": "application/json"},
    ),
    "input guard": lambda c, w, s: c.get("/v1/nowhere/a%00b"),
    "idempotency": lambda c, w, s: c.post(
        "/v1/organisations",
        json={"name": "X", "kind": "police"},
        headers={**w.operator.headers, "Idempotency-Key": "not a key"},
    ),
}


@pytest.mark.parametrize("source", sorted(PROBLEM_SOURCES))
def test_every_problem_is_built_by_the_one_renderer(
    client: TestClient, world: World, settings: Settings, source: str
) -> None:
    response = PROBLEM_SOURCES[source](client, world, settings)
    assert response.status_code >= 400
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["content-length"]) == len(response.content)
    members = response.json()
    assert members["status"] == response.status_code
    assert members["request_id"] == response.headers["x-request-id"]
    assert set(members) <= set(Problem.model_fields)
    assert response.content == _render_as_sent(members)


def _render_as_sent(members: dict[str, Any]) -> bytes:
    # The renderer's output for the same members (its request id set as the request's was).
    token = set_request_id(members.get("request_id"))
    try:
        problem = Problem.model_validate(members)
        return render_problem(
            problem.status,
            problem.code,
            problem.title,
            problem.detail,
            errors=problem.errors,
            instance=problem.instance,
        )
    finally:
        reset_request_id(token)


def test_a_server_error_is_built_by_the_one_renderer(settings: Settings) -> None:
    app: FastAPI = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("internals")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/boom")
    assert response.status_code == 500
    assert response.content == _render_as_sent(response.json())


def test_the_servers_own_refusals_are_built_by_the_one_renderer() -> None:
    protocol = SimpleNamespace(server_state=SimpleNamespace(default_headers=[]))
    answer = HeaderLimitedHttpToolsProtocol._problem(
        protocol,  # type: ignore[arg-type]
        431,
        "headers_too_large",
        "Too much.",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 Request Header Fields Too Large")
    assert b"content-length: " + str(len(body)).encode() in head.split(b"\r\n")
    assert "request_id" not in json.loads(body)  # no request was read
    assert body == render_problem(
        431, "headers_too_large", "Request Header Fields Too Large", "Too much."
    )


# -- what a route needs from the edge, declared on it ----------------------------------------


def test_the_routes_that_declare_what_the_edge_needs(app: FastAPI) -> None:
    declared = {
        route.name: traits_of(route)
        for route in flat_routes(app.router.routes)
        if traits_of(route) != RouteTraits()
    }
    assert {name: traits.body for name, traits in declared.items() if traits.body.read_raw} == {
        "push_list": BodyKind.LIST,
        "upload_document": BodyKind.DOCUMENT,
        "upload_part": BodyKind.DOCUMENT,
    }
    assert {name for name, traits in declared.items() if traits.not_replayable} == {
        "issue_token",
        "create_client",
        "rotate_client_secret",
        "create_webhook",  # its signing secret is shown once, never kept for a replay
    }


def _app_with_extra_routes(settings: Settings) -> FastAPI:
    """Two routes at paths no limit was ever written for: one declares a list body."""
    app = create_app(settings)

    @app.put("/v1/extra/{thing}/raw")
    @edge(body=BodyKind.LIST)
    async def extra_raw(thing: str, request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.put("/v1/extra/{thing}/json")
    async def extra_json(thing: str, request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


def test_a_routes_declared_body_sets_its_limit_and_who_reads_it(settings: Settings) -> None:
    big = b'{"a": "\\u0000", "b": "' + b"x" * (settings.max_body_bytes + 10) + b'"}'
    assert len(big) < settings.max_list_bytes
    with TestClient(_app_with_extra_routes(settings)) as test_client:
        headers = {"Content-Type": "application/json"}
        raw = test_client.put("/v1/extra/one/raw", content=big, headers=headers)
        assert raw.status_code == 200, raw.text  # the list limit, and the endpoint reads it
        assert raw.json() == {"bytes": len(big)}
        json_body = test_client.put("/v1/extra/one/json", content=big, headers=headers)
        assert json_body.status_code == 413
        small = b'{"a": "\\u0000"}'
        guarded = test_client.put("/v1/extra/one/json", content=small, headers=headers)
        assert guarded.status_code == 422
        assert guarded.json()["errors"][0]["field"] == "body.a"
        unguarded = test_client.put("/v1/extra/one/raw", content=small, headers=headers)
        assert unguarded.status_code == 200


def test_a_path_is_matched_to_its_route_once_for_every_middleware(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core import edge as edge_module

    calls: list[str] = []
    real = edge_module.match_route

    def counting(router: Any, scope: Any, patterns: Any = None) -> Any:
        calls.append(scope["path"])
        return real(router, scope, patterns)

    monkeypatch.setattr(edge_module, "match_route", counting)
    with TestClient(_app_with_extra_routes(settings)) as test_client:
        response = test_client.put(
            "/v1/extra/a%00b/json", json={"k": "v"}, headers={"Idempotency-Key": "k1"}
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.thing"
    assert calls == ["/v1/extra/a\x00b/json"]


# -- the token, decoded once per request ------------------------------------------------------


POLICE = {"name": "A", "kind": "police"}


def _counting_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens the one decoder (ours and trusted issuers') is given."""
    decoded: list[str] = []
    real = TokenDecoder.decode

    def counting(self: TokenDecoder, token: str) -> Claims:
        decoded.append(token)
        return real(self, token)

    monkeypatch.setattr(TokenDecoder, "decode", counting)
    return decoded


def test_passing_routes_over_on_their_pattern_finds_what_their_own_match_finds(
    app: FastAPI,
) -> None:
    routes = flat_routes(app.router.routes)
    patterns = [path_pattern(route) for route in routes]
    assert sum(pattern is not None for pattern in patterns) > len(routes) // 2
    for route in routes:
        path = getattr(route, "path_format", None) or "/"
        concrete = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000001", path)
        for method in ("GET", "PUT", "TRACE"):
            scope = {"type": "http", "method": method, "path": concrete, "root_path": ""}
            assert match_route(routes, scope, patterns) == match_route(routes, scope), concrete


def test_a_keyed_post_decodes_its_token_once(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded = _counting_decodes(monkeypatch)
    headers = {**world.operator.headers, "Idempotency-Key": "decode-once"}
    created = client.post("/v1/organisations", json=POLICE, headers=headers)
    assert created.status_code == 201
    assert decoded == [world.operator.token]
    replayed = client.post("/v1/organisations", json=POLICE, headers=headers)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert decoded == [world.operator.token] * 2


def test_a_refused_token_is_decoded_once_and_answered_401(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded = _counting_decodes(monkeypatch)
    headers = {"Authorization": "Bearer not.a.token", "Idempotency-Key": "decode-once"}
    refused = client.post("/v1/organisations", json=POLICE, headers=headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"
    assert decoded == ["not.a.token"]


def test_a_disabled_clients_token_still_fails_on_a_keyed_post(
    client: TestClient, world: World, factory: Factory
) -> None:
    """The claims are handed on; whether the client may still use them is asked each time."""
    disabled = client.post(
        f"/v1/clients/{world.agency.client_id}/disable", headers=world.operator.headers
    )
    assert disabled.status_code == 200
    response = client.post(
        f"/v1/inspections/{world.inspection_id}/meetings",
        json={"kind": "strategy-discussion", "starts_at": "2027-04-05T10:00:00+01:00"},
        headers={**world.agency.headers, "Idempotency-Key": "after-disable"},
    )
    assert response.status_code == 401


# -- If-Match, read by one parser -------------------------------------------------------------


def _if_match_calls(world: World, factory: Factory) -> dict[str, tuple[str, str, Any, str]]:
    """operation -> (method, path, body, actor) for every route that takes If-Match."""
    factory.stored_list(world.inspection_id, "children-in-need", [cin_row("C1")])
    factory.selection(world.inspection_id, "tracked", ["C1"])
    inspection = f"/v1/inspections/{world.inspection_id}"
    child = f"{inspection}/children/C1"
    meeting = factory.meeting(world.agency, world.inspection_id)
    questions = factory.state.themes.get("mental-health").evaluation.questions
    return {
        "push_list": (
            "PUT",
            f"{inspection}/lists/children-in-need",
            {"rows": [cin_row("C1")]},
            "agency",
        ),
        "put_evaluation": (
            "PUT",
            f"{child}/evaluations/joint",
            {
                "answers": dict.fromkeys(questions, "Answered."),
                "contributing_organisation_ids": [str(world.agency.organisation_id)],
            },
            "agency",
        ),
        "put_tracking": (
            "PUT",
            f"{child}/tracking",
            {"summaries": {"referral_timely": {"summary": "Timely.", "esn": [23]}}},
            "lead",
        ),
        "update_meeting": (
            "PUT",
            f"{inspection}/meetings/{meeting}",
            {
                "kind": "strategy-discussion",
                "starts_at": "2027-04-05T10:00:00+01:00",
                "ends_at": "2027-04-05T11:00:00+01:00",
                "place": "Town hall",
            },
            "agency",
        ),
        "put_engagement": ("PUT", f"{child}/engagement", {"child_agreed": True}, "agency"),
    }


def _takes_if_match(route: Any) -> bool:
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return False
    headers = [param for dep in _all_dependants(dependant) for param in dep.header_params]
    return any(param.alias.lower() == "if-match" for param in headers)


def _all_dependants(dependant: Any) -> list[Any]:
    return [dependant, *(d for sub in dependant.dependencies for d in _all_dependants(sub))]


@pytest.mark.parametrize("if_match", ['"one"', "3", 'W/"x"', '"-1"'])
def test_every_route_that_takes_if_match_reads_it_alike(
    app: FastAPI, client: TestClient, world: World, factory: Factory, if_match: str
) -> None:
    calls = _if_match_calls(world, factory)
    routes = {route.name for route in flat_routes(app.router.routes) if _takes_if_match(route)}
    assert set(calls) == routes
    for operation, (method, path, body, actor) in calls.items():
        headers = {**getattr(world, actor).headers, "If-Match": if_match}
        response = client.request(method, path, json=body, headers=headers)
        if if_match == "3":  # a number, bare or quoted, is a version: this one is stale
            assert response.status_code == 412, (operation, response.text)
            continue
        assert response.status_code == 422, (operation, response.text)
        assert response.json()["code"] == "invalid_if_match", operation
        assert response.json()["errors"] == [
            {"field": "header.if-match", "code": "invalid", "message": "not a number"}
        ]
