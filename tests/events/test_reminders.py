"""Deadline reminders: at the right moments across a bank holiday, once each across runs,
restarts and concurrent runners; overdue only while unmet; moved milestones re-armed.

The clock is the ``now`` each run is given. The inspection is notified on Wednesday 1 May
2030: its first lists (mental health, D3 09:00) are due on Tuesday 7 May, after the May Day
bank holiday on Monday 6 May, so their working morning is Friday 3 May.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.database import make_engine, make_session_factory, session_scope
from app.events.feed import EventReader, visible_events
from app.events.models import Event, EventRecipient, SentReminder
from app.events.outbox import START
from app.events.reminders import (
    INSPECTORS,
    ReminderPlan,
    parse_offsets,
    send_due_reminders,
    working_morning,
)
from app.inspections.models import Inspection, InspectionStatus
from tests.factories import Factory, World
from tests.worlds import LONDON, PAST

NOTIFIED = datetime(2030, 5, 1, 9, 0, tzinfo=LONDON)
LISTS = "lists-cin-cp-cla"  # D3 09:00: Tuesday 7 May, 09:00
MEETINGS = "meetings-and-lists"  # D3 end of day: Tuesday 7 May, 23:59:59
LISTS_DUE = datetime(2030, 5, 7, 9, 0, tzinfo=LONDON)

pytestmark = pytest.mark.world(notification_at=NOTIFIED)


def at(day: int, hour: int, minute: int = 0, month: int = 5) -> datetime:
    return datetime(2030, month, day, hour, minute, tzinfo=LONDON)


@dataclass(frozen=True)
class Sent:
    event_type: str
    milestone: str
    organisations: frozenset[uuid.UUID]
    to_inspectors: bool


def plan(app: FastAPI, offsets: str = "working_morning,2h") -> ReminderPlan:
    return ReminderPlan(app.state.jtai.contexts, parse_offsets(offsets))


def events(factory: sessionmaker[Session]) -> list[Sent]:
    """The reminders sent (the world's own changes also told of requests opened, etc.)."""
    with factory() as session:
        reminders = select(Event).where(Event.event_type.startswith("deadline."))
        rows = session.execute(reminders.order_by(Event.id)).scalars().all()
        named = session.execute(select(EventRecipient)).scalars().all()
        return [
            Sent(
                row.event_type,
                row.resource_id,
                frozenset(r.organisation_id for r in named if r.event_id == row.id),
                row.to_inspectors,
            )
            for row in rows
        ]


def run(app: FastAPI, now: datetime, factory: sessionmaker[Session] | None = None) -> list[Sent]:
    """One job run at ``now``: the events it sent."""
    factory = factory or app.state.jtai.session_factory
    before = len(events(factory))
    report = send_due_reminders(factory, plan(app), now)
    assert report.failed == []
    new = events(factory)[before:]
    assert report.sent == len(new)
    return new


@pytest.fixture(autouse=True)
def _other_inspection_closed(factory: Factory, world: World) -> None:
    """The world's other inspection (notified in 2027) is closed: no reminders of it, ever."""
    with session_scope(factory.state.session_factory) as session:
        other = session.get(Inspection, world.other_inspection_id)
        assert other is not None
        other.status = InspectionStatus.CLOSED


@pytest.fixture
def health(factory: Factory, world: World) -> uuid.UUID:
    """A health agency taking part: responsible for the lists, as the council is."""
    return factory.actor_in(world, "health").organisation_id


def test_working_morning_skips_weekends_bank_holidays_and_mornings_already_past() -> None:
    # Due at 09:00 on the Tuesday after the May Day bank holiday: the Friday before.
    assert working_morning(LISTS_DUE, LONDON) == at(3, 9)
    # Due at the end of that Tuesday: its own morning.
    assert working_morning(at(7, 23, 59), LONDON) == at(7, 9)
    # Due on a Saturday (a moved milestone): the Friday.
    assert working_morning(at(11, 12), LONDON) == at(10, 9)
    # Due at noon on the Tuesday after the Spring bank holiday (Monday 27 May): that morning.
    assert working_morning(at(28, 12), LONDON) == at(28, 9)


def test_reminders_fire_once_each_at_their_moments_across_a_bank_holiday(
    app: FastAPI, world: World, health: uuid.UUID
) -> None:
    council = world.agency.organisation_id
    responsible = frozenset({council, health})
    assert run(app, at(3, 8, 59)) == []
    assert run(app, at(3, 9)) == [Sent("deadline.approaching", LISTS, responsible, False)]
    assert run(app, at(3, 9, 10)) == []  # sent: not again
    assert run(app, at(6, 9)) == []  # the bank holiday Monday is no working morning
    assert run(app, at(7, 6, 59)) == []
    assert run(app, at(7, 7)) == [Sent("deadline.approaching", LISTS, responsible, False)]
    assert run(app, at(7, 8, 30)) == []
    # Due and unmet: overdue, to the inspectors too; the meetings' working morning has come.
    assert run(app, at(7, 9)) == [
        Sent("deadline.overdue", LISTS, responsible, True),
        Sent("deadline.approaching", MEETINGS, responsible, False),
    ]
    assert run(app, at(7, 9, 5)) == []
    assert run(app, at(7, 12)) == []
    with app.state.jtai.session_factory() as session:
        kinds = session.execute(
            select(SentReminder.kind, SentReminder.organisation_id).where(
                SentReminder.milestone_key == LISTS
            )
        ).all()
    assert sorted((kind, org == INSPECTORS) for kind, org in kinds) == [
        ("approaching:2h", False),
        ("approaching:2h", False),
        ("approaching:working_morning", False),
        ("approaching:working_morning", False),
        ("overdue", False),
        ("overdue", False),
        ("overdue", True),
    ]


def test_a_service_down_past_the_due_time_sends_only_the_overdue(
    app: FastAPI, world: World
) -> None:
    sent = run(app, at(7, 10))
    assert [(s.event_type, s.milestone) for s in sent] == [
        ("deadline.overdue", LISTS),
        ("deadline.approaching", MEETINGS),  # still ahead: one reminder, not two
    ]
    assert run(app, at(7, 22)) == [
        Sent("deadline.approaching", MEETINGS, frozenset({world.agency.organisation_id}), False)
    ]  # two hours before the end of the day


def test_a_milestone_met_is_not_overdue(factory: Factory, app: FastAPI, world: World) -> None:
    for key in ("children-in-need", "child-protection", "looked-after"):
        factory.stored_list(world.inspection_id, key, [{"child_id": "C1"}])
    sent = run(app, at(7, 10))
    assert [s.milestone for s in sent] == [MEETINGS]  # nothing of the lists, now met


def test_a_moved_milestone_is_reminded_of_again_for_its_new_time(
    app: FastAPI, client: TestClient, world: World
) -> None:
    council = frozenset({world.agency.organisation_id})
    assert Sent("deadline.overdue", LISTS, council, True) in run(app, at(7, 9))

    def move(to: datetime) -> None:
        url = f"/v1/inspections/{world.inspection_id}/schedule/{LISTS}"
        body = {"due_at": to.isoformat(), "reason": "The council asked for two more days."}
        response = client.put(url, json=body, headers=world.lead.headers)
        assert response.status_code == 200, response.text

    move(at(9, 15))  # Thursday 15:00
    assert [s for s in run(app, at(9, 13)) if s.milestone == LISTS] == [
        Sent("deadline.approaching", LISTS, council, False)
    ]
    assert [s for s in run(app, at(9, 15)) if s.milestone == LISTS] == [
        Sent("deadline.overdue", LISTS, council, True)
    ]
    move(LISTS_DUE)  # back to a due time already reminded of: nothing twice
    assert [s for s in run(app, at(9, 16)) if s.milestone == LISTS] == []


def test_an_inspector_hears_of_the_overdue_and_an_agency_only_of_its_own(
    app: FastAPI, world: World
) -> None:
    run(app, at(7, 9))

    def heard(reader: EventReader) -> list[tuple[str, str]]:
        with app.state.jtai.session_factory() as session:
            found = visible_events(session, reader, START, 500)
            reminders = [event for event in found if event.event_type.startswith("deadline.")]
            return [(event.event_type, event.resource_id) for event in reminders]

    inspector = EventReader(
        world.inspector.client_id, world.inspector.organisation_id, frozenset({"inspector"}), True
    )
    assert heard(inspector) == [("deadline.overdue", LISTS)]
    other = world.other_area_agency
    outsider = EventReader(other.client_id, other.organisation_id, frozenset({"agency"}), False)
    assert heard(outsider) == []
    council = EventReader(
        world.agency.client_id, world.agency.organisation_id, frozenset({"agency"}), False
    )
    assert ("deadline.approaching", MEETINGS) in heard(council)


def test_the_inspectors_are_reminded_of_their_own_milestones(app: FastAPI, world: World) -> None:
    # The selection is the lead inspector's (D4 10:00: Wednesday 8 May); nobody else's.
    run(app, at(7, 23, 59))
    sent = run(app, at(8, 9))
    assert Sent("deadline.approaching", "selection", frozenset(), True) in sent


@pytest.mark.commits
def test_a_restart_sends_nothing_twice(
    app: FastAPI, world: World, database_url: str, fresh_engine: Engine
) -> None:
    first = run(app, at(7, 9), make_session_factory(fresh_engine))
    assert len(first) == 2
    restarted = make_engine(database_url)  # a new process: nothing remembered but the rows
    try:
        assert run(app, at(7, 9, 10), make_session_factory(restarted)) == []
    finally:
        restarted.dispose()


@pytest.mark.commits
def test_concurrent_runners_send_each_reminder_once(
    app: FastAPI, world: World, health: uuid.UUID, fresh_engine: Engine, db_kind: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip("SQLite runs one writer at a time: there is no race to lose")
    runners, start = 6, threading.Barrier(6)
    factory = make_session_factory(fresh_engine)
    sent: list[int] = []

    def runner() -> None:
        start.wait()
        report = send_due_reminders(factory, plan(app), at(7, 9))
        assert report.failed == []
        sent.append(report.sent)

    threads = [threading.Thread(target=runner) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = events(factory)
    assert len(sent) == runners
    assert sum(sent) == len(found) == 2
    assert sorted((s.event_type, s.milestone) for s in found) == [
        ("deadline.approaching", MEETINGS),
        ("deadline.overdue", LISTS),
    ]


def test_reminder_offsets_are_checked_when_the_service_starts() -> None:
    assert Settings(reminder_offsets=" Working_Morning, 2h,30m,2h").reminder_offsets == (
        "working_morning,2h,30m"
    )
    assert Settings(reminder_offsets="").reminder_offsets == ""
    with pytest.raises(ValidationError, match="'tomorrow' is not"):
        Settings(reminder_offsets="working_morning,tomorrow")
    offsets = parse_offsets("working_morning,90m")
    assert offsets[1].fires_at(LISTS_DUE, LONDON) == LISTS_DUE - timedelta(minutes=90)


def test_jtai_jobs_run_sends_the_reminders_due_once(jtai: Any, factory: Factory) -> None:
    past = factory.world(notification_at=PAST)  # every milestone long passed, none met
    first = jtai("jobs", "run")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["reminders_sent"] > 0
    again = jtai("jobs", "run")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["reminders_sent"] == 0
    with factory.state.session_factory() as session:
        kinds = session.execute(
            select(Event.event_type).where(Event.inspection_id == past.inspection_id)
        ).scalars()
        reminders = {kind for kind in kinds if kind.startswith("deadline.")}
        assert reminders == {"deadline.overdue"}  # long past: never "approaching" now
