"""Meetings of the fieldwork week: the agencies the theme names record them, everyone reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Actor, Factory
from tests.worlds import FUTURE, Exchange, milestone


def _meeting(ex: Exchange, start: str = "10:00", end: str = "11:00", **fields: Any) -> Any:
    return {
        "kind": "strategy-discussion",
        "starts_at": f"2030-03-18T{start}:00+00:00",
        "ends_at": f"2030-03-18T{end}:00+00:00",
        "place": "Civic centre, room 2",
        "organisation_ids": [str(ex.health.organisation_id)],
        "child_ids": ["C1"],
    } | fields


def _post(
    client: TestClient, ex: Exchange, body: dict[str, Any], actor: Actor | None = None
) -> Any:
    actor = actor or ex.world.agency
    return client.post(f"{ex.base}/meetings", json=body, headers=actor.headers)


def test_record_read_change_and_delete(client: TestClient, ex: Exchange) -> None:
    created = _post(client, ex, _meeting(ex))
    assert created.status_code == 201, created.json()
    assert created.json()["warnings"] == []
    url = f"{ex.base}/meetings/{created.json()['id']}"
    for reader in (ex.world.inspector, ex.police, ex.world.lead):
        listed = client.get(f"{ex.base}/meetings", headers=reader.headers)
        assert [m["kind"] for m in listed.json()] == ["strategy-discussion"]
    link = _meeting(ex, place=None, call_link="https://meet.example/abc")
    changed = client.put(url, json=link, headers=ex.world.agency.headers | {"If-Match": '"1"'})
    assert changed.json()["version"] == 2
    assert changed.json()["call_link"] == "https://meet.example/abc"
    stale = client.put(url, json=link, headers=ex.world.agency.headers | {"If-Match": '"1"'})
    assert stale.status_code == 412
    assert client.delete(url, headers=ex.world.agency.headers).status_code == 204
    assert client.delete(url, headers=ex.world.agency.headers).status_code == 404


def test_the_agencies_the_milestone_names_record_meetings(client: TestClient, ex: Exchange) -> None:
    """Mental health para 40 asks "the local agencies": health records its own meeting, and
    changes it; police may not change health's meeting; the council, which coordinates, may."""
    created = _post(client, ex, _meeting(ex), ex.health)
    assert created.status_code == 201, created.json()
    assert created.json()["recorded_by_organisation_id"] == str(ex.health.organisation_id)
    url = f"{ex.base}/meetings/{created.json()['id']}"
    moved = _meeting(ex, start="12:00", end="13:00")
    assert client.put(url, json=moved, headers=ex.health.headers).status_code == 200
    by_police = client.put(url, json=moved, headers=ex.police.headers)
    assert by_police.status_code == 403
    assert by_police.json()["code"] == "not_meeting_recorder"
    assert client.delete(url, headers=ex.police.headers).status_code == 403
    assert client.delete(url, headers=ex.world.agency.headers).status_code == 204
    # Inspectors record nothing.
    assert _post(client, ex, _meeting(ex), ex.world.lead).status_code == 403


def test_where_the_theme_names_only_the_council_others_may_not_record(
    client: TestClient, factory: Factory
) -> None:
    """Domestic abuse para 22 asks the local authority alone."""
    ex = Exchange.around(factory, factory.world("domestic-abuse", FUTURE))
    response = _post(client, ex, _meeting(ex), ex.health)
    assert response.status_code == 403
    assert response.json()["code"] == "not_responsible_for_meetings"
    assert _post(client, ex, _meeting(ex)).status_code == 201


def test_meeting_is_checked(client: TestClient, ex: Exchange) -> None:
    body = _meeting(
        ex,
        start="11:00",
        end="10:00",
        kind="picnic",
        place=None,
        organisation_ids=[str(ex.world.other_area_agency.organisation_id)],
    )
    response = _post(client, ex, body)
    assert response.status_code == 422
    problems = {(p["field"], p["code"]) for p in response.json()["errors"]}
    assert problems == {
        ("body.kind", "unknown_meeting_kind"),
        ("body.ends_at", "ends_before_start"),
        ("body.place", "place_missing"),
        ("body.organisation_ids.0", "not_a_participant"),
    }
    naive = _meeting(ex, starts_at="2030-03-18T10:00:00")
    assert _post(client, ex, naive).json()["errors"][0]["field"] == "body.starts_at"


def test_overlaps_of_one_organisation_are_warned(client: TestClient, ex: Exchange) -> None:
    first = _post(client, ex, _meeting(ex)).json()
    police_only = _meeting(ex, organisation_ids=[str(ex.police.organisation_id)])
    assert _post(client, ex, police_only).json()["warnings"] == []
    assert _post(client, ex, _meeting(ex, start="11:00", end="12:00")).json()["warnings"] == []
    clash = _post(client, ex, _meeting(ex, start="10:30", end="11:30"))
    assert clash.status_code == 201
    warnings = clash.json()["warnings"]
    assert {w["code"] for w in warnings} == {"overlapping_meeting"}
    assert first["id"] in {w["meeting_id"] for w in warnings}
    assert {w["organisation_id"] for w in warnings} == {str(ex.health.organisation_id)}
    listed = client.get(f"{ex.base}/meetings", headers=ex.world.lead.headers).json()
    earliest = next(m for m in listed if m["id"] == first["id"])
    assert [w["meeting_id"] for w in earliest["warnings"]] == [clash.json()["id"]]


def test_a_meeting_meets_its_condition(client: TestClient, ex: Exchange) -> None:
    def condition() -> dict[str, Any]:
        entry = milestone(client, ex, "meetings-and-lists")
        found: dict[str, Any] = next(
            c for c in entry["satisfied_by"] if c["kind"] == "meetings_recorded"
        )
        return found

    assert condition()["met_at"] is None
    created = _post(client, ex, _meeting(ex)).json()
    met_at = datetime.fromisoformat(condition()["met_at"])
    assert met_at == datetime.fromisoformat(created["created_at"])
    assert condition()["description"] == "1 meeting(s) recorded"
