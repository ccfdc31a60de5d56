"""Each change writes its event in its own transaction, heard only by those who may read it."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.core.database import session_scope
from app.events.models import Event
from app.inspections.models import InspectionStatus
from app.inspections.service import change_status
from tests.conftest import Reader
from tests.events.helpers import about, feed, of_type
from tests.factories import Factory
from tests.list_rows import cin_row
from tests.worlds import TRACKED, Exchange


def _count(db: Reader) -> int:
    return int(db.all(select(func.count()).select_from(Event))[0])


def _request_ids(client: TestClient, ex: Exchange, actor_headers: dict[str, str]) -> set[str]:
    answer = client.get(f"{ex.base}/requests", headers=actor_headers)
    assert answer.status_code == 200, answer.text
    return {row["id"] for row in answer.json()}


def test_requests_are_told_only_to_their_addressees_and_the_team(
    client: TestClient, ex: Exchange
) -> None:
    world = ex.world
    health_heard = of_type(feed(client, ex.health), "request.opened")
    police_heard = of_type(feed(client, ex.police), "request.opened")
    health_ids = {item["resource"]["id"] for item in health_heard}
    police_ids = {item["resource"]["id"] for item in police_heard}
    assert health_ids == _request_ids(client, ex, ex.health.headers)
    assert police_ids == _request_ids(client, ex, ex.police.headers)
    health_only = health_ids - police_ids  # its case files (partnership items are shared)
    assert health_only
    police_events = {item["id"] for item in feed(client, ex.police)}
    health_only_events = {
        item["id"] for item in health_heard if item["resource"]["id"] in health_only
    }
    assert health_only_events
    assert not health_only_events & police_events  # police is never told of a health request
    team_ids = {
        i["resource"]["id"] for i in of_type(feed(client, world.inspector), "request.opened")
    }
    assert health_ids | police_ids <= team_ids
    assert all(i["resource"]["url"] == f"{ex.base}/requests" for i in health_heard)


def test_nobody_off_the_inspection_hears_of_it(client: TestClient, ex: Exchange) -> None:
    world = ex.world
    assert about(feed(client, world.inspector), world.inspection_id)
    for outsider in (world.off_team_inspector, world.outside_inspector, world.other_area_agency):
        assert about(feed(client, outsider), world.inspection_id) == []
    # The council's administrator reads no inspection, though the council takes part.
    assert about(feed(client, world.org_admin), world.inspection_id) == []


def test_events_name_no_child(client: TestClient, ex: Exchange, factory: Factory) -> None:
    factory.evaluation(ex.world.agency, ex.world.inspection_id, "C1")
    text = json.dumps(feed(client, ex.world.inspector))
    assert of_type(json.loads(text), "evaluation.saved")
    assert not [child for child in TRACKED if re.search(rf"\b{child}\b", text)]


def test_a_new_selection_withdraws_requests_and_tells_everyone(
    client: TestClient, ex: Exchange, factory: Factory
) -> None:
    world = ex.world
    before = len(of_type(feed(client, ex.health), "selection.changed"))
    factory.selection(world.inspection_id, "tracked", TRACKED[:4])
    assert len(of_type(feed(client, ex.health), "selection.changed")) == before + 1
    withdrawn = of_type(feed(client, world.inspector), "request.withdrawn")
    assert withdrawn  # the fifth child's case files
    selection = of_type(feed(client, ex.police), "selection.changed")[-1]
    assert selection["resource"]["url"] == f"{ex.base}/selections/tracked"


def test_a_pushed_list_is_told_to_its_supplier_and_the_team(
    client: TestClient, ex: Exchange
) -> None:
    world = ex.world
    pushed = client.put(
        f"{ex.base}/lists/children-in-need",
        json={"rows": [cin_row("C1")]},
        headers=world.agency.headers,
    )
    assert pushed.status_code == 201, pushed.text
    for hearer in (world.agency, world.inspector):
        (event,) = of_type(feed(client, hearer), "list.pushed")
        assert event["resource"]["url"].startswith(f"{ex.base}/lists/children-in-need/versions/")
        assert client.get(event["resource"]["url"], headers=hearer.headers).status_code == 200
    assert of_type(feed(client, ex.health), "list.pushed") == []


def test_answers_are_told_to_the_team(client: TestClient, ex: Exchange, factory: Factory) -> None:
    world = ex.world
    request_id = factory.document_request(world.inspection_id, ex.health.organisation_id)
    document_id = factory.document(ex.health, request_id)
    other = factory.document_request(world.inspection_id, ex.health.organisation_id)
    factory.nil_return(ex.health, other, "None held.")
    heard = feed(client, world.inspector)
    (document,) = of_type(heard, "document.received")
    assert document["resource"] == {
        "type": "document",
        "id": str(document_id),
        "url": f"/v1/documents/{document_id}",
    }
    (nil_return,) = of_type(heard, "nil_return.received")
    assert nil_return["resource"]["id"] == str(other)
    for not_told in (ex.police, world.agency):
        assert of_type(feed(client, not_told), "document.received") == []
        assert of_type(feed(client, not_told), "nil_return.received") == []


def test_evaluations_are_told_to_inspectors_only(
    client: TestClient, ex: Exchange, factory: Factory
) -> None:
    world = ex.world
    factory.evaluation(world.agency, world.inspection_id, "C1")
    (event,) = of_type(feed(client, world.inspector), "evaluation.saved")
    assert event["resource"]["url"] == f"{ex.base}/progress"
    assert of_type(feed(client, world.agency), "evaluation.saved") == []


def test_meetings_schedule_and_status_are_told_to_every_participant(
    client: TestClient, ex: Exchange, factory: Factory
) -> None:
    world = ex.world
    factory.meeting(world.agency, world.inspection_id)
    moved = client.put(
        f"{ex.base}/schedule/documents",
        json={"due_at": "2030-04-02T12:00:00+01:00", "reason": "agreed by phone"},
        headers=world.lead.headers,
    )
    assert moved.status_code == 200, moved.text
    status = client.put(
        f"{ex.base}/status", json={"status": "fieldwork"}, headers=world.lead.headers
    )
    assert status.status_code == 200, status.text
    for hearer in (ex.police, world.inspector, world.lead):
        heard = feed(client, hearer)
        assert len(of_type(heard, "meeting.changed")) == 1
        (milestone,) = of_type(heard, "milestone.moved")
        assert milestone["resource"]["url"] == f"{ex.base}/schedule"
        (changed,) = of_type(heard, "inspection.status_changed")
        assert changed["resource"]["url"] == ex.base


def test_a_change_refused_writes_no_event(client: TestClient, ex: Exchange, db: Reader) -> None:
    world = ex.world
    before = _count(db)
    too_early = client.put(
        f"{ex.base}/schedule/documents",
        json={"due_at": "2001-04-02T12:00:00+01:00", "reason": "typo"},
        headers=world.lead.headers,
    )
    assert too_early.status_code == 422
    skipped = client.put(f"{ex.base}/status", json={"status": "closed"}, headers=world.lead.headers)
    assert skipped.status_code == 409
    bad_list = client.put(
        f"{ex.base}/lists/children-in-need",
        json={"rows": [cin_row("C1", gender="?")]},
        headers=world.agency.headers,
    )
    assert bad_list.status_code == 422
    assert _count(db) == before


def test_credential_changes_are_told_to_the_organisations_administrators(
    client: TestClient, ex: Exchange
) -> None:
    world = ex.world
    made = client.post(
        f"/v1/organisations/{world.agency.organisation_id}/clients",
        json={"name": "case system", "roles": ["agency"]},
        headers=world.org_admin.headers,
    )
    assert made.status_code == 201, made.text
    (event,) = of_type(feed(client, world.org_admin), "credential.changed")
    assert event["inspection_id"] is None
    assert event["resource"]["id"] == made.json()["client_id"]
    url = event["resource"]["url"]
    assert client.get(url, headers=world.org_admin.headers).status_code == 200
    for not_told in (world.agency, world.operator, world.other_area_agency, world.inspector):
        assert of_type(feed(client, not_told), "credential.changed") == []


def test_an_event_goes_with_its_rolled_back_change(
    ex: Exchange, factory: Factory, db: Reader
) -> None:
    """The event is written in the change's transaction, at its commit: gone with the change
    when a later step fails, there once the change commits."""
    before = _count(db)

    def change(fail: bool) -> None:
        with session_scope(factory.state.session_factory) as session:
            context = factory._context(session, ex.world.inspection_id)
            change_status(session, context, InspectionStatus.FIELDWORK)
            if fail:
                raise RuntimeError("a later step of the change failed")

    with pytest.raises(RuntimeError):
        change(fail=True)
    assert _count(db) == before
    change(fail=False)
    assert _count(db) == before + 1


def test_a_request_of_several_is_told_to_each_and_its_answer_to_the_others(
    client: TestClient, ex: Exchange, factory: Factory
) -> None:
    world = ex.world
    asked = client.post(
        f"{ex.base}/requests",
        json={
            "organisation_ids": [str(ex.health.organisation_id), str(world.agency.organisation_id)],
            "title": "Joint safeguarding minutes",
            "due_at": "2030-04-02T17:00:00+01:00",
        },
        headers=world.lead.headers,
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    for hearer in (ex.health, world.agency, world.inspector):
        opened = of_type(feed(client, hearer), "request.opened")
        assert request_id in {item["resource"]["id"] for item in opened}
    assert request_id not in {item["resource"]["id"] for item in feed(client, ex.police)}
    document_id = factory.document(ex.health, uuid.UUID(request_id))
    (to_council,) = of_type(feed(client, world.agency), "document.received")
    assert to_council["resource"] == {
        "type": "request",  # the council may not read the health trust's document
        "id": request_id,
        "url": f"{ex.base}/requests",
    }
    (to_team,) = of_type(feed(client, world.inspector), "document.received")
    assert to_team["resource"]["id"] == str(document_id)
    assert of_type(feed(client, ex.health), "document.received") == []
    assert of_type(feed(client, ex.police), "document.received") == []
