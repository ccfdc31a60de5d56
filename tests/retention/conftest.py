"""An inspection holding one of every kind of child data, and the means to close and purge it."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.database import session_scope, utcnow
from app.deadlines.service import default_due_at
from app.document_requests.models import DocumentRequest, DocumentRequestAddressee
from app.documents.models import Document
from app.events.models import Event, EventRecipient
from app.events.reminders import ReminderPlan, send_due_reminders
from app.inspections.models import Inspection, InspectionStatus
from app.storage import Storage
from tests.factories import PDF, Factory, World

ROWS = [{"child_id": f"C{n}", "name": f"Child {n}"} for n in range(1, 6)]
EXPECTED_COUNTS = {
    "list_blocks": 1,  # five rows make one block
    "list_versions": 1,
    "selections": 1,
    "evaluations": 1,
    "tracking_records": 1,
    "meetings": 1,
    "engagements": 1,
    "documents": 2,
    "nil_returns": 1,
    "uploads": 1,
    # The first lists' milestone, overdue: to the local authority and to the inspectors.
    "sent_reminders": 2,
}


@dataclass(frozen=True)
class Filled:
    world: World
    contents: list[bytes]
    list_version_id: uuid.UUID
    requests: int  # derived from the theme and the tracked children, plus the one made here
    addressees: int  # who each of them is asked of
    events: int  # what the changes told of (app.events), and to whom by name
    event_recipients: int

    @property
    def counts(self) -> dict[str, int]:
        """What a purge of this inspection should report deleting."""
        return EXPECTED_COUNTS | {
            "requests": self.requests,
            "request_addressees": self.addressees,
            "events": self.events,
            "event_recipients": self.event_recipients,
        }

    @property
    def inspection_id(self) -> uuid.UUID:
        return self.world.inspection_id

    @property
    def document_sha256s(self) -> set[str]:
        return {hashlib.sha256(content).hexdigest() for content in self.contents}


def fill(factory: Factory, client: TestClient, world: World) -> Filled:
    """One row of every table a purge empties, written as the services and the API write them."""
    inspection_id, agency = world.inspection_id, world.agency
    version_id = factory.stored_list(inspection_id, "children_in_need", ROWS)
    factory.selection(inspection_id, "tracked", ["C1", "C2"])
    request_id = factory.document_request(inspection_id, agency.organisation_id)
    contents = [PDF + b"% first\n", PDF + b"% second\n"]
    for content in contents:
        factory.document(agency, request_id, content)
    factory.upload(agency, request_id)
    nothing_held = factory.document_request(inspection_id, agency.organisation_id)
    factory.nil_return(agency, nothing_held, "None held: C1's school has no such record.")
    factory.evaluation(agency, inspection_id, "C1")
    factory.meeting(agency, inspection_id)
    factory.engagement(agency, inspection_id, "C1")
    tracking = client.put(
        f"/v1/inspections/{inspection_id}/children/C1/tracking",
        json={"summaries": {"referral_timely": {"summary": "Timely.", "esn": [23]}}},
        headers=world.inspector.headers,
    )
    assert tracking.status_code == 200, tracking.text
    remind_of_first_milestone(factory, inspection_id)
    with session_scope(factory.state.session_factory) as session:
        query = select(func.count()).where(DocumentRequest.inspection_id == inspection_id)
        requests = int(session.execute(query).scalar_one())
        ids = select(DocumentRequest.id).where(DocumentRequest.inspection_id == inspection_id)
        asked = select(func.count()).where(DocumentRequestAddressee.request_id.in_(ids))
        addressees = int(session.execute(asked).scalar_one())
        told = select(Event.id).where(Event.inspection_id == inspection_id)
        events = int(
            session.execute(select(func.count()).select_from(told.subquery())).scalar_one()
        )
        named = select(func.count()).where(EventRecipient.event_id.in_(told))
        event_recipients = int(session.execute(named).scalar_one())
    assert requests > 3  # information items and two tracked children's case files, derived
    assert events > 3  # the requests opened, the list, the selection
    assert event_recipients > 0
    return Filled(world, contents, version_id, requests, addressees, events, event_recipients)


def remind_of_first_milestone(factory: Factory, inspection_id: uuid.UUID) -> None:
    """The reminders of an hour after the theme's first milestone was due, unmet: overdue."""
    contexts = factory.state.contexts
    with session_scope(factory.state.session_factory) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None
        theme = contexts.theme(inspection.theme)
        first = min(theme.milestones, key=lambda milestone: milestone.order_key())
        due_at = default_due_at(inspection, first, contexts.clock)
    plan = ReminderPlan(contexts, offsets=())
    send_due_reminders(factory.state.session_factory, plan, due_at + timedelta(hours=1))


def close(factory: Factory, inspection_id: uuid.UUID, days_ago: float = 0) -> None:
    """Closed as the lead would close it, ``days_ago`` days back."""
    with session_scope(factory.state.session_factory) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None
        inspection.status = InspectionStatus.CLOSED
        inspection.status_changed_at = utcnow() - timedelta(days=days_ago)


def object_keys(factory: Factory, inspection_id: uuid.UUID) -> list[str]:
    with session_scope(factory.state.session_factory) as session:
        query = select(Document.object_key).where(Document.inspection_id == inspection_id)
        return list(session.execute(query).scalars())


@pytest.fixture
def filled(factory: Factory, client: TestClient, world: World) -> Filled:
    return fill(factory, client, world)


@pytest.fixture
def session_factory(app: FastAPI) -> sessionmaker[Session]:
    result: sessionmaker[Session] = app.state.jtai.session_factory
    return result


@pytest.fixture
def storage(app: FastAPI) -> Storage:
    result: Storage = app.state.jtai.storage
    return result
