"""Selections: the lead inspector's choices, checked against the lists and the theme's scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from tests.conftest import Reader
from tests.factories import Factory, World

LONDON = ZoneInfo("Europe/London")


def _child(child_id: str, age: int, concern: str = "Y", **extra: Any) -> dict[str, Any]:
    return {"child_id": child_id, "age_years": age, "mh_concern": concern, **extra}


@pytest.fixture
def mh(factory: Factory, world: World) -> World:
    """The world, with lists of children in and out of the mental-health scope."""
    factory.stored_list(
        world.inspection_id,
        "children-in-need",
        [_child(f"C{n}", 10 + n % 6) for n in range(1, 9)]
        + [
            _child("OLD", 16),
            _child("CALM", 12, "N"),
            _child("SUPPORT", 11, "N", mh_support_need="Y"),
        ],
    )
    factory.stored_list(world.inspection_id, "looked-after", [_child("CLA1", 14)])
    return world


def _put(client: TestClient, world: World, key: str, ids: list[str], actor: str = "lead") -> Any:
    return client.put(
        f"/v1/inspections/{world.inspection_id}/selections/{key}",
        json={"child_ids": ids},
        headers=getattr(world, actor).headers,
    )


def test_lead_selects_tracked_children(client: TestClient, mh: World, db: Reader) -> None:
    response = _put(client, mh, "tracked", ["C1", "C2", "C3", "SUPPORT", "CLA1"])
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 1
    seen = client.get(
        f"/v1/inspections/{mh.inspection_id}/selections/tracked", headers=mh.agency.headers
    )
    assert seen.json()["child_ids"] == ["C1", "C2", "C3", "SUPPORT", "CLA1"]
    changed = _put(client, mh, "tracked", ["C1", "C2", "C3", "C4", "C5", "C6"])
    assert changed.json()["version"] == 2
    events = db.all(select(AuditEvent).where(AuditEvent.action == "selection.changed"))
    assert events[-1].detail["added"] == ["C4", "C5", "C6"]
    assert events[-1].detail["removed"] == ["CLA1", "SUPPORT"]


def test_selection_meets_its_milestone(client: TestClient, mh: World) -> None:
    _put(client, mh, "tracked", ["C1", "C2", "C3", "C4", "C5"])
    schedule = client.get(
        f"/v1/inspections/{mh.inspection_id}/schedule", headers=mh.agency.headers
    ).json()
    selection = next(m for m in schedule["milestones"] if m["key"] == "selection")
    assert selection["state"] == "met"
    assert selection["satisfied_by"][0]["description"] == "tracked selection made"
    lists = next(m for m in schedule["milestones"] if m["key"] == "lists-cin-cp-cla")
    assert lists["state"] == "pending"  # child protection is not in yet


def test_each_child_breaking_a_rule_is_named(client: TestClient, mh: World) -> None:
    response = _put(
        client, mh, "tracked", ["C1", "C2", "OLD", "CALM", "NOBODY", "C1", "C3", "C4", "C5"]
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_selection"  # a child on no list: no reason lifts it
    errors = {(p.get("value"), p["code"], p["field"]) for p in body["errors"]}
    assert errors == {
        ("NOBODY", "not_on_lists", "body.child_ids.4"),
        ("C1", "duplicate_child", "body.child_ids.5"),
    }
    # What the lead could override is named too, so one answer shows everything.
    warnings = {(w["rule"], w["code"], tuple(w["child_ids"])) for w in body["warnings"]}
    assert warnings == {
        ("age", "age_out_of_scope", ("OLD",)),
        ("scope", "not_in_scope", ("CALM",)),
        ("count", "wrong_number_of_children", ()),
    }


def test_a_child_id_with_a_line_break_is_refused(client: TestClient, mh: World) -> None:
    response = _put(client, mh, "tracked", ["C1", "C2", "C3", "C4\nC5", "C6"])
    assert response.status_code == 422
    fields = [p["field"] for p in response.json()["errors"]]
    assert fields == ["body.child_ids.3"]


@pytest.mark.parametrize("count", [4, 8])
def test_tracked_needs_five_to_seven(client: TestClient, mh: World, count: int) -> None:
    ids = [f"C{n}" for n in range(1, 9)][:count]
    response = _put(client, mh, "tracked", ids)
    assert response.status_code == 422
    assert response.json()["code"] == "needs_override"
    (warning,) = response.json()["warnings"]
    assert (warning["rule"], warning["code"]) == ("count", "wrong_number_of_children")
    assert warning["paragraphs"] == [3, 37]


@pytest.mark.parametrize("actor", ["inspector", "agency", "operator"])
def test_only_the_lead_selects(client: TestClient, mh: World, actor: str) -> None:
    assert _put(client, mh, "tracked", ["C1", "C2", "C3", "C4", "C5"], actor).status_code == 403


def test_other_area_sees_nothing(client: TestClient, mh: World) -> None:
    _put(client, mh, "tracked", ["C1", "C2", "C3", "C4", "C5"])
    response = client.get(
        f"/v1/inspections/{mh.inspection_id}/selections/tracked",
        headers=mh.other_area_agency.headers,
    )
    assert response.status_code == 404


def test_mental_health_has_no_shortlist(client: TestClient, mh: World) -> None:
    assert _put(client, mh, "shortlist", ["C1"]).status_code == 404


def test_domestic_abuse_shortlist_then_tracked(client: TestClient, factory: Factory) -> None:
    world = factory.world("domestic-abuse", datetime(2030, 3, 5, 9, 0, tzinfo=LONDON))
    rows = [{"child_id": f"D{n}", "living_with_da": "Y"} for n in range(1, 23)]
    rows.append({"child_id": "NO-DA", "living_with_da": "N"})
    factory.stored_list(world.inspection_id, "children-in-need", rows[:12])
    factory.stored_list(world.inspection_id, "child-protection", rows[12:])
    early = _put(client, world, "tracked", ["D1", "D2", "D3", "D4", "D5"])
    assert early.status_code == 422
    assert [w["code"] for w in early.json()["warnings"]] == ["selection_missing"]
    wrong = _put(client, world, "shortlist", [f"D{n}" for n in range(1, 20)] + ["NO-DA"])
    assert wrong.status_code == 422
    assert [w["child_ids"] for w in wrong.json()["warnings"]] == [["NO-DA"]]
    shortlist = _put(client, world, "shortlist", [f"D{n}" for n in range(1, 21)])
    assert shortlist.status_code == 200
    outside = _put(client, world, "tracked", ["D1", "D2", "D3", "D4", "D21"])
    assert [w["code"] for w in outside.json()["warnings"]] == ["not_in_selection"]
    assert _put(client, world, "tracked", ["D1", "D2", "D3", "D4", "D5"]).status_code == 200
