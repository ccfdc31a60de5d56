"""Problem details everywhere, body limits, request ids, health and readiness."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.logging import JsonFormatter
from app.main import create_app
from tests.factories import Factory


def _is_problem(response: object) -> bool:
    return response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert _is_problem(response)
    assert response.json()["code"] == "not_found"


def test_wrong_method_is_problem_json(client: TestClient) -> None:
    response = client.delete("/v1/me")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_unknown_fields_are_refused_with_the_field_named(
    client: TestClient, factory: Factory
) -> None:
    world = factory.world()
    response = client.post(
        "/v1/organisations",
        json={"name": "Police", "kind": "police", "colour": "blue"},
        headers=world.operator.headers,
    )
    assert response.status_code == 422
    assert _is_problem(response)
    assert response.json()["code"] == "validation_error"
    assert [e["field"] for e in response.json()["errors"]] == ["body.colour"]


def test_bad_enum_names_the_field(client: TestClient, factory: Factory) -> None:
    world = factory.world()
    response = client.post(
        "/v1/organisations", json={"name": "X", "kind": "army"}, headers=world.operator.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.kind"


def test_malformed_json_is_422(client: TestClient, factory: Factory) -> None:
    world = factory.world()
    response = client.post(
        "/v1/organisations",
        content=b"{not json",
        headers={**world.operator.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert _is_problem(response)


def test_oversize_body_is_413_before_reading(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    world = factory.world()
    response = client.post(
        "/v1/organisations",
        content=b"x" * (settings.max_body_bytes + 1),
        headers={**world.operator.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_oversize_streamed_body_without_length_is_413(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    world = factory.world()

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"x" * 65536

    response = client.post(
        "/v1/organisations",
        content=chunks(),
        headers={**world.operator.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_request_id_is_echoed_or_minted(client: TestClient) -> None:
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    minted = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert minted.headers["x-request-id"] not in {"", "bad id with spaces"}


@pytest.mark.commits
def test_server_errors_hide_the_trace_and_log_it(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app: FastAPI = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    logging.getLogger("jtai").propagate = True
    with (
        TestClient(app, raise_server_exceptions=False) as test_client,
        caplog.at_level(logging.ERROR),
    ):
        response = test_client.get("/boom", headers={"X-Request-ID": "trace-me"})
    assert response.status_code == 500
    assert _is_problem(response)
    assert "secret internals" not in response.text
    assert response.json()["request_id"] == "trace-me"
    logged = [r for r in caplog.records if r.name == "jtai.errors"]
    assert logged
    assert logged[-1].exc_info is not None
    assert "secret internals" in str(logged[-1].exc_info[1])


def test_access_log_is_one_json_line_without_secrets(
    client: TestClient, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    world = factory.world()
    access = logging.getLogger("jtai.access")
    access.addHandler(caplog.handler)
    try:
        client.get("/v1/me", headers=world.agency.headers)
    finally:
        access.removeHandler(caplog.handler)
    line = JsonFormatter().format(caplog.records[-1])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["route"] == "/v1/me"
    assert entry["status"] == 200
    assert entry["client_id"] == str(world.agency.client_id)
    assert world.agency.token not in line


@pytest.mark.commits
def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "storage": True}
