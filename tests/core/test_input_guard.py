"""Bytes no endpoint can store are refused at the edge, the place named: NUL (PostgreSQL text
cannot hold it; each of these was a 500 there) and JSON nested too deep (a RecursionError)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from app.core.input_guard import MAX_JSON_DEPTH, inspect_json
from app.document_requests.models import DocumentRequest
from tests.conftest import Reader
from tests.factories import Factory, World


def _named(response: Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "validation_error"
    assert {item["code"] for item in response.json()["errors"]} == {"nul_character"}
    return [item["field"] for item in response.json()["errors"]]


@pytest.mark.parametrize("tail", ["", "/access-log", "/evaluations", "/engagement"])
def test_nul_in_a_child_id_in_the_path_is_named(
    client: TestClient, world: World, tail: str
) -> None:
    url = f"/v1/inspections/{world.inspection_id}/children/C%001{tail}"
    assert _named(client.get(url, headers=world.lead.headers)) == ["path.child_id"]


def test_nul_in_a_path_no_route_takes_is_named_as_the_path(client: TestClient) -> None:
    assert _named(client.get("/v1/nowhere/a%00b")) == ["path"]


def test_nul_in_the_audit_action_filter_is_named(client: TestClient, world: World) -> None:
    url = f"/v1/inspections/{world.inspection_id}/audit?action=list.pushed%00"
    assert _named(client.get(url, headers=world.lead.headers)) == ["query.action"]


def test_nul_in_a_query_parameter_name_is_named(client: TestClient, world: World) -> None:
    url = f"/v1/inspections/{world.inspection_id}/audit?ac%00tion=x"
    assert _named(client.get(url, headers=world.lead.headers)) == ["query.ac\\u0000tion"]


def test_nul_in_a_milestone_move_reason_is_named_and_nothing_moves(
    client: TestClient, world: World
) -> None:
    url = f"/v1/inspections/{world.inspection_id}/schedule/documents"
    body = {"due_at": "2030-03-14T12:00:00+00:00", "reason": "Records system\x00 outage"}
    assert _named(client.put(url, json=body, headers=world.lead.headers)) == ["body.reason"]
    schedule = client.get(
        f"/v1/inspections/{world.inspection_id}/schedule", headers=world.lead.headers
    ).json()
    documents = next(m for m in schedule["milestones"] if m["key"] == "documents")
    assert documents["moved"] is None


def test_nul_in_a_cqc_request_title_is_named_and_nothing_is_asked(
    client: TestClient, world: World, factory: Factory, db: Reader
) -> None:
    health = factory.actor_in(world, "health")
    body = {
        "organisation_id": str(health.organisation_id),
        "title": "CAMHS records\x00",
        "due_at": "2030-03-18T17:00:00+00:00",
    }
    url = f"/v1/inspections/{world.inspection_id}/requests"
    assert _named(client.post(url, json=body, headers=world.inspector.headers)) == ["body.title"]
    assert not [r for r in db.all(select(DocumentRequest)) if r.kind == "cqc"]


def test_every_nul_in_a_json_body_is_named_keys_and_list_items_too(
    client: TestClient, world: World
) -> None:
    body = {"child_ids": ["C1", "C\x002"], "not\x00a_field": "x"}
    url = f"/v1/inspections/{world.inspection_id}/selections/tracked"
    named = _named(client.put(url, json=body, headers=world.lead.headers))
    assert sorted(named) == ["body.child_ids.1", "body.not\\u0000a_field"]


def test_nul_is_refused_before_authentication(client: TestClient) -> None:
    # Nothing about the caller is looked up with it either.
    response = client.post("/v1/organisations", json={"name": "Po\x00lice", "kind": "police"})
    assert _named(response) == ["body.name"]


def _post_raw(client: TestClient, world: World, body: str) -> Response:
    headers = {**world.operator.headers, "Content-Type": "application/json"}
    return client.post("/v1/organisations", content=body.encode(), headers=headers)


def test_json_nested_100000_deep_is_refused_naming_the_nesting(
    client: TestClient, world: World
) -> None:
    response = _post_raw(client, world, '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert response.status_code == 422
    assert response.json()["code"] == "json_too_deep"
    assert str(MAX_JSON_DEPTH) in response.json()["detail"]


def test_json_just_past_the_depth_limit_names_where(client: TestClient, world: World) -> None:
    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    response = _post_raw(client, world, '{"name": "x", "kind": "police", "a": ' + nested + "}")
    assert response.json()["code"] == "json_too_deep"
    assert response.json()["errors"][0]["field"] == "body.a" + ".0" * (MAX_JSON_DEPTH - 1)


def test_json_at_the_depth_limit_goes_on_to_the_endpoint(client: TestClient, world: World) -> None:
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    response = _post_raw(client, world, '{"name": "x", "kind": "police", "a": ' + nested + "}")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert [e["field"] for e in response.json()["errors"]] == ["body.a"]


def test_an_escaped_backslash_before_u0000_is_not_a_nul() -> None:
    assert inspect_json(b'{"path": "C:\\\\u0000"}').nul_at == ()
    assert inspect_json(b'{"path": "C:\\u0000"}').nul_at == ("body.path",)


def test_bodies_that_do_not_decode_are_left_to_the_endpoint(
    client: TestClient, world: World
) -> None:
    response = _post_raw(client, world, "{not json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "json_invalid"


def test_a_second_content_type_does_not_walk_the_body_past_the_guard(
    client: TestClient, world: World
) -> None:
    """The framework reads the first Content-Type; a guard that read the last let a NUL through
    (found by the attacker's pass: a webhook stored with a NUL in its URL)."""
    body = b'{"url": "http://1.1.1.1\\u0000x/", "event_types": ["request.opened"]}'
    headers = [
        *world.agency.headers.items(),
        ("content-type", "application/json"),
        ("content-type", "text/plain"),
    ]
    response = client.post("/v1/webhooks", content=body, headers=headers)
    assert _named(response) == ["body.url"]
