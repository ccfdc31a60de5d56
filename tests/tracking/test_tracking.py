"""Inspectors' Annex B tracking records: each inspector's own, and invisible to agencies."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Actor
from tests.worlds import Exchange


def _summary(text: str, *esn: int) -> dict[str, Any]:
    return {"summary": text, "esn": list(esn)}


def _put(
    client: TestClient, ex: Exchange, actor: Actor, body: dict[str, Any], **headers: str
) -> Any:
    return client.put(f"{ex.child()}/tracking", json=body, headers=actor.headers | headers)


def _records(client: TestClient, ex: Exchange) -> dict[str, dict[str, Any]]:
    response = client.get(f"{ex.child()}/tracking", headers=ex.world.inspector.headers)
    assert response.status_code == 200
    return {record["author"]["client_id"]: record for record in response.json()}


def test_two_inspectors_records_coexist(client: TestClient, ex: Exchange) -> None:
    lead, inspector = ex.world.lead, ex.world.inspector
    body = {"header": {"inspector": "Lead", "child_age": 14}, "summaries": {}}
    assert _put(client, ex, lead, body).status_code == 200
    mine = {"summaries": {"referral_timely": _summary("Timely.", 23)}}
    assert _put(client, ex, inspector, mine).json()["version"] == 1
    again = _put(client, ex, lead, {"summaries": {"risk_identified": _summary("Clear.")}})
    assert again.json()["version"] == 2
    records = _records(client, ex)
    assert set(records) == {str(lead.client_id), str(inspector.client_id)}
    assert records[str(lead.client_id)]["summaries"] == {
        "risk_identified": {"summary": "Clear.", "esn": []}
    }
    # The lead's second PUT left the other inspector's record as it was.
    theirs = records[str(inspector.client_id)]
    assert theirs["version"] == 1
    assert theirs["summaries"]["referral_timely"] == {"summary": "Timely.", "esn": [23]}
    assert theirs["author"]["organisation_id"] == str(inspector.organisation_id)


def test_stale_if_match_is_412(client: TestClient, ex: Exchange) -> None:
    body: dict[str, Any] = {"summaries": {}}
    first = _put(client, ex, ex.world.inspector, body, **{"If-Match": '"0"'})
    assert first.headers["ETag"] == '"1"'
    stale = _put(client, ex, ex.world.inspector, body, **{"If-Match": '"0"'})
    assert stale.status_code == 412
    # Another inspector's versions do not count against the caller's.
    assert _put(client, ex, ex.world.lead, body, **{"If-Match": '"0"'}).status_code == 200


def test_esn_numbers_are_checked(client: TestClient, ex: Exchange) -> None:
    body = {
        "summaries": {
            "referral_timely": _summary("Framework and theme.", 5, 23),
            "risk_identified": _summary("Unknown.", 23, 999),
        }
    }
    response = _put(client, ex, ex.world.inspector, body)
    assert response.status_code == 422
    [problem] = response.json()["errors"]
    assert problem["field"] == "body.summaries.risk_identified.esn.1"
    assert problem["code"] == "unknown_esn"
    assert problem["value"] == "999"


def test_header_and_questions_are_the_themes(client: TestClient, ex: Exchange) -> None:
    body = {
        "header": {"child_age": "fourteen", "shoe_size": "9"},
        "summaries": {"favourite_colour": _summary("Blue.")},
    }
    response = _put(client, ex, ex.world.inspector, body)
    assert response.status_code == 422
    problems = {(p["field"], p["code"]) for p in response.json()["errors"]}
    assert problems == {
        ("body.header.child_age", "not_an_integer"),
        ("body.header.shoe_size", "unknown_field"),
        ("body.summaries.favourite_colour", "unknown_question"),
    }


@pytest.mark.parametrize("actor", ["agency", "health", "operator"])
def test_no_one_but_inspectors_is_told_they_exist(
    client: TestClient, ex: Exchange, actor: str
) -> None:
    _put(client, ex, ex.world.inspector, {"summaries": {}})
    caller = getattr(ex.world, actor, None) or getattr(ex, actor)
    read = client.get(f"{ex.child()}/tracking", headers=caller.headers)
    write = _put(client, ex, caller, {"summaries": {}})
    assert (read.status_code, write.status_code) == (404, 404)
    assert read.json()["code"] == "not_found"


def test_only_tracked_children(client: TestClient, ex: Exchange) -> None:
    response = client.put(
        f"{ex.child('C9')}/tracking", json={"summaries": {}}, headers=ex.world.lead.headers
    )
    assert response.status_code == 404


def test_nothing_leaks_into_the_child_view(client: TestClient, ex: Exchange) -> None:
    secret = "Inspector-only judgement XYZZY"
    body = {"header": {"inspector": secret}, "summaries": {"referral_timely": _summary(secret)}}
    _put(client, ex, ex.world.inspector, body)
    for actor in (ex.world.agency, ex.health, ex.world.lead):
        view = client.get(ex.child(), headers=actor.headers)
        assert view.status_code == 200, view.json()
        assert secret not in view.text
        assert "tracking" not in view.text
