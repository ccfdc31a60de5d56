"""Requests the lead makes (issue 16, "Requests only the system derives"): the lead asks any
agency taking part for something, items the guidance asks only "as requested by the lead
inspector" are made by the lead and not derived, and an item asked of the partnership is one
request that any of the agencies it names may answer."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.roles import Role
from app.organisations.kinds import OrganisationKind
from tests.conftest import Reader
from tests.documents.test_document_kinds import requests_of, upload
from tests.factories import Factory, World
from tests.list_rows import cin_row
from tests.schedule.test_answered_milestones import _answer_all_but_one, _send
from tests.worlds import PAST

DUE = "2030-03-18T17:00:00+00:00"


def ask(client: TestClient, world: World, actor: Any = None, **body: Any) -> Any:
    return client.post(
        f"/v1/inspections/{world.inspection_id}/requests",
        json={"due_at": DUE, **body},
        headers=(actor or world.lead).headers,
    )


def test_the_lead_asks_the_police_for_a_clarification(
    client: TestClient, factory: Factory, world: World, db: Reader
) -> None:
    police, health = factory.actor_in(world, "police"), factory.actor_in(world, "health")
    made = ask(
        client,
        world,
        organisation_id=str(police.organisation_id),
        title="Clarification: strategy discussion dates",
        detail="The chronology and the minutes give different dates; which is right?",
    )
    assert made.status_code == 201, made.text
    request = made.json()
    assert request["kind"] == "lead_request"
    assert request["addressee_organisation_ids"] == [str(police.organisation_id)]
    assert request["detail"].startswith("The chronology")
    assert request["state"] == "open"
    assert [r["id"] for r in requests_of(client, world, police) if r["kind"] == "lead_request"] == [
        request["id"]
    ]
    assert request["id"] not in {r["id"] for r in requests_of(client, world, health)}
    assert upload(client, police, request["id"], "answer.pdf", None).status_code == 201
    mine = next(r for r in requests_of(client, world, police) if r["id"] == request["id"])
    assert mine["state"] == "answered"
    audited = db.all(select(AuditEvent).where(AuditEvent.action == "request.created"))
    assert [event.detail["kind"] for event in audited] == ["lead_request"]
    assert "title" not in audited[0].detail  # free text may name a child: not in the trail


def test_only_the_lead_and_cqc_make_requests(
    client: TestClient, factory: Factory, world: World
) -> None:
    police = factory.actor_in(world, "police")
    hmicfrs = factory.actor(OrganisationKind.HMICFRS, [Role.INSPECTOR])
    factory.add_participant(world.inspection_id, hmicfrs.organisation_id)
    factory.team_member(world.inspection_id, hmicfrs)
    body = {"organisation_id": str(police.organisation_id), "title": "Custody records"}
    refused = ask(client, world, hmicfrs, **body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "not_lead_or_cqc"
    # CQC asks health agencies only; the lead any agency taking part, about a tracked child.
    by_cqc = ask(client, world, world.inspector, **body)
    assert by_cqc.status_code == 422
    assert by_cqc.json()["code"] == "not_a_health_participant"  # as before the lead could ask
    assert ask(client, world, world.off_team_inspector, **body).status_code == 404
    assert ask(client, world, police, **body).status_code == 403
    outsider = {"organisation_id": str(world.other_area_agency.organisation_id), "title": "Plans"}
    assert ask(client, world, **outsider).json()["code"] == "not_an_addressee"
    assert ask(client, world, **body, child_id="C9").json()["code"] == "not_tracked"


def test_an_idempotency_key_replays_the_request(client: TestClient, world: World) -> None:
    body = {"organisation_id": str(world.agency.organisation_id), "title": "A missing plan"}
    headers = world.lead.headers | {"Idempotency-Key": "ask-once"}
    url = f"/v1/inspections/{world.inspection_id}/requests"
    first = client.post(url, json={"due_at": DUE, **body}, headers=headers)
    again = client.post(url, json={"due_at": DUE, **body}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    made = [r for r in requests_of(client, world, world.lead) if r["kind"] == "lead_request"]
    assert len(made) == 1


def _items(client: TestClient, world: World, actor: Any = None) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for request in requests_of(client, world, actor or world.lead):
        if request["kind"] == "information_item" and request["state"] != "withdrawn":
            found.setdefault(request["item_number"], []).append(request)
    return found


def test_on_request_items_are_made_by_the_lead_not_derived(
    client: TestClient, factory: Factory, world: World
) -> None:
    health = factory.actor_in(world, "health")
    factory.actor_in(world, "youth_offending")
    items = _items(client, world)
    assert {"2.2", "5.4"} <= set(items)
    assert not {"2.3", "3.3", "5.5"} & set(items)  # "as requested by the lead inspector"
    council_and_health = [str(world.agency.organisation_id), str(health.organisation_id)]
    made = ask(client, world, item_number="2.3", organisation_ids=council_and_health)
    assert made.status_code == 201, made.text
    request = made.json()
    assert request["kind"] == "information_item"
    assert request["title"].startswith("2.3 Sub-group minutes")
    assert request["addressee_organisation_ids"][0] == council_and_health[0]
    assert sorted(request["addressee_organisation_ids"]) == sorted(council_and_health)
    assert [r["id"] for r in _items(client, world, health)["2.3"]] == [request["id"]]
    assert (
        ask(client, world, item_number="2.2", organisation_ids=council_and_health).json()["code"]
        == "not_on_request"
    )
    police = factory.actor_in(world, "police")  # section 2 is the council's and health's
    wrong = ask(client, world, item_number="2.3", organisation_id=str(police.organisation_id))
    assert wrong.json()["code"] == "not_an_addressee"
    assert (
        ask(client, world, item_number="9.9", organisation_id=council_and_health[0]).json()["code"]
        == "unknown_item"
    )
    # Deriving again (a participant came) keeps the lead's item.
    assert [r["id"] for r in _items(client, world)["2.3"]] == [request["id"]]


def _documents_state(client: TestClient, world: World) -> str:
    schedule = client.get(
        f"/v1/inspections/{world.inspection_id}/schedule", headers=world.lead.headers
    ).json()
    state: str = next(m for m in schedule["milestones"] if m["key"] == "documents")["state"]
    return state


@pytest.mark.world(notification_at=PAST)
def test_on_request_items_count_against_the_deadline_once_made(
    client: TestClient, factory: Factory, world: World
) -> None:
    factory.selection(world.inspection_id, "tracked", ["C1"])
    last, kind = _answer_all_but_one(client, world)
    _send(client, world, last, kind)
    assert _documents_state(client, world) == "late"  # met: no sub-group minutes were owed
    made = ask(client, world, item_number="2.3", organisation_id=str(world.agency.organisation_id))
    assert made.status_code == 201, made.text
    assert _documents_state(client, world) == "overdue"  # now they are asked for, they count
    _send(client, world, made.json()["id"], None)
    assert _documents_state(client, world) == "late"


def test_a_partnership_item_is_one_request_any_partner_answers(
    client: TestClient, factory: Factory, world: World
) -> None:
    health, police = factory.actor_in(world, "health"), factory.actor_in(world, "police")
    partners = [str(o.organisation_id) for o in (world.agency, health, police)]
    minutes = _items(client, world)["3.2"]  # the safeguarding partners' minutes
    assert len(minutes) == 1  # not one per agency
    request = minutes[0]
    assert request["addressee_organisation_ids"][0] == partners[0]  # the council first
    assert sorted(request["addressee_organisation_ids"]) == sorted(partners)
    for partner in (world.agency, health, police):
        assert [r["id"] for r in _items(client, world, partner)["3.2"]] == [request["id"]]
    assert all(len(requests) == 1 for requests in _items(client, world).values())
    assert upload(client, police, request["id"], "minutes.pdf", None).status_code == 201
    seen_by_council = _items(client, world, world.agency)["3.2"][0]
    assert seen_by_council["state"] == "answered"
    [answer] = seen_by_council["answers"]
    assert answer["status"] == "received"
    assert answer["answered_by_organisation_id"] == str(police.organisation_id)
    assert answer["document_id"] is None  # what police sent is police's
    assert seen_by_council["documents"] == []
    seen_by_police = _items(client, world, police)["3.2"][0]
    assert len(seen_by_police["documents"]) == 1
    submissions = client.get(
        f"/v1/inspections/{world.inspection_id}/submissions", headers=world.lead.headers
    ).json()
    for row in submissions:
        assert request["id"] not in {r["id"] for r in row["open_requests"]}
    council_row = next(r for r in submissions if r["organisation_id"] == partners[0])
    assert council_row["documents"] == []  # police's minutes are police's submission


def test_a_partnership_item_takes_one_nil_return_from_any_partner(
    client: TestClient, factory: Factory, world: World
) -> None:
    health = factory.actor_in(world, "health")
    request = _items(client, world)["2.1"][0]
    said = client.post(
        f"/v1/requests/{request['id']}/nil-return",
        json={"reason": "Commissioning is the council's; we hold no structure chart."},
        headers=health.headers,
    )
    assert said.status_code == 201, said.text
    seen = _items(client, world, world.agency)["2.1"][0]
    assert seen["state"] == "answered"
    assert seen["answers"][0]["answered_by_organisation_id"] == str(health.organisation_id)
    assert seen["answers"][0]["status"] == "nil_return"


def test_cqc_asks_only_about_a_tracked_child(
    client: TestClient, factory: Factory, world: World
) -> None:
    """The attacker's pass: CQC asked health about an untracked (or made-up) child, whose
    documents the ZIP and the progress view then served."""
    health = factory.actor_in(world, "health")
    factory.stored_list(world.inspection_id, "children-in-need", [cin_row("C1"), cin_row("C9")])
    factory.selection(world.inspection_id, "tracked", ["C1"])
    body = {"organisation_id": str(health.organisation_id), "title": "Health records"}
    for child in ("C9", "GHOST"):
        refused = ask(client, world, world.inspector, child_id=child, **body)
        assert refused.status_code == 422
        assert refused.json()["code"] == "not_tracked"
    assert ask(client, world, world.inspector, child_id="C1", **body).status_code == 201


def test_a_due_time_outside_the_years_the_service_reasons_about_is_422(
    client: TestClient, factory: Factory, world: World
) -> None:
    """9999-12-31T23:59:59-14:00 cannot even be turned into UTC: it was a 500."""
    police = factory.actor_in(world, "police")
    for due in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "1970-01-01T00:00:00Z"):
        refused = ask(
            client, world, organisation_id=str(police.organisation_id), title="Dates", due_at=due
        )
        assert refused.status_code == 422, due
        assert refused.json()["errors"][0]["field"] == "body.due_at"
