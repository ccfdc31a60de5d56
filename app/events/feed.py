"""Which events a reader hears of, in order: the one rule the feed and every webhook use.

A reader hears of an event when it is a recipient (named, an inspector when inspectors are,
a participant when all are), holds the role the event asks for, and may read the inspection
the event is about: its organisation takes part and, for an inspector, they are on its team.
So a police agency is never told of a health request, and an inspector off the team hears
nothing of the inspection.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.auth.roles import Role, Scope, scopes_for
from app.events.models import Event, EventRecipient
from app.events.outbox import ORDER, START, Position, settled_after
from app.events.payload import event_payload
from app.events.types import PING
from app.inspections.models import InspectionParticipant, InspectionTeamMember


@dataclass(frozen=True)
class EventReader:
    """Who reads: a principal of an organisation, with its roles (values of auth's Role)."""

    principal_id: uuid.UUID
    organisation_id: uuid.UUID
    roles: frozenset[str]
    is_inspector: bool


@dataclass(frozen=True)
class Wanted:
    """What a webhook takes of what its reader hears of: these types, and its own pings
    (which name the webhook and no recipient, so no reader hears of them)."""

    types: frozenset[str]
    pings_of: str  # the webhook's id, as its pings name it


@dataclass(frozen=True)
class Batch:
    """A webhook's next events, and where it is done up to when there are none: the newest
    settled event the same statement saw, past which nothing earlier can still appear."""

    events: list[Event]
    done_to: Position | None


def visible_events(
    session: Session, reader: EventReader, after: Position, limit: int
) -> Sequence[Event]:
    """The reader's next events after ``after``, oldest first, at most ``limit``."""
    query = (
        select(Event)
        .where(*settled_after(session, after), _hears_of(reader))
        .order_by(*ORDER)
        .limit(limit)
    )
    return session.execute(query).scalars().all()


def webhook_events(
    session: Session, reader: EventReader, after: Position, limit: int, wanted: Wanted
) -> Batch:
    """The events of visible_events that the webhook wants, with its pings, in one statement.

    The statement also returns the newest settled event, wanted or not, flagged as such: where
    it is the only row, the webhook is done with everything up to it, and its cursor may move
    there, so that it is not claimed again for events it does not want. Being read by the
    same statement, from the same snapshot, nothing at or before it can still appear
    (app.events.outbox)."""
    takes = or_(
        and_(Event.event_type.in_(sorted(wanted.types)), _hears_of(reader)),
        and_(Event.event_type == PING, Event.resource_id == wanted.pings_of),
    )
    newest = select(func.max(Event.id)).where(*settled_after(session, after)).scalar_subquery()
    query = (
        select(Event, takes.label("wanted"))
        .where(*settled_after(session, after), or_(takes, Event.id == newest))
        .order_by(*ORDER)
        .limit(limit)
    )
    rows = session.execute(query).all()
    events = [event for event, taken in rows if taken]
    done_to = Position.of(rows[-1][0]) if rows and not events else None
    return Batch(events, done_to)


def _hears_of(reader: EventReader) -> ColumnElement[bool]:
    return and_(
        or_(Event.required_role.is_(None), Event.required_role.in_(sorted(reader.roles))),
        or_(_named(reader), _as_participant(reader)),
    )


def _named(reader: EventReader) -> ColumnElement[bool]:
    named = exists().where(
        EventRecipient.event_id == Event.id,
        EventRecipient.organisation_id == reader.organisation_id,
    )
    return and_(named, or_(Event.inspection_id.is_(None), _reads_inspection(reader)))


def _as_participant(reader: EventReader) -> ColumnElement[bool]:
    as_inspector = Event.to_inspectors if reader.is_inspector else false()
    return and_(
        Event.inspection_id.is_not(None),
        or_(Event.to_participants, as_inspector),
        _reads_inspection(reader),
    )


def _reads_inspection(reader: EventReader) -> ColumnElement[bool]:
    if not _may_read_inspections(reader):
        # An organisation's administrator manages credentials and reads no inspection, even
        # one its organisation takes part in: it hears of none.
        return false()
    takes_part = exists().where(
        InspectionParticipant.inspection_id == Event.inspection_id,
        InspectionParticipant.organisation_id == reader.organisation_id,
    )
    on_team = (
        exists().where(
            InspectionTeamMember.inspection_id == Event.inspection_id,
            InspectionTeamMember.principal_id == reader.principal_id,
            InspectionTeamMember.organisation_id == reader.organisation_id,
        )
        if reader.is_inspector
        else true()
    )
    return and_(takes_part, on_team)


def _may_read_inspections(reader: EventReader) -> bool:
    roles = frozenset(Role(role) for role in reader.roles if role in Role.__members__.values())
    return Scope.INSPECTIONS_READ in scopes_for(roles)


# How often a waiting reader looks again: short enough that an event reaches a long-polling
# consumer within a fraction of a second, long enough that a thousand waiting consumers cost
# the database only a few cheap indexed queries a second each.
POLL_INTERVAL_SECONDS = 0.25


@dataclass(frozen=True)
class Page:
    """The reader's next events as consumers see them, and the cursor to resume from."""

    items: list[dict[str, Any]]
    next_cursor: str


def reader_of(principal: Principal) -> EventReader:
    return EventReader(
        principal_id=principal.client_id,
        organisation_id=principal.organisation_id,
        roles=frozenset(role.value for role in principal.roles),
        is_inspector=principal.is_inspector,
    )


def read_page(session: Session, reader: EventReader, after: Position, limit: int) -> Page:
    """One page, serialised while its transaction is open; then the transaction ends, so no
    connection (nor, on SQLite, a read lock) is held while a long poll waits."""
    events = visible_events(session, reader, after, limit)
    last = Position.of(events[-1]) if events else after
    page = Page([event_payload(event) for event in events], _cursor(last))
    session.commit()
    return page


def _cursor(position: Position) -> str:
    # The start has no cursor of its own: a consumer that saw nothing resumes from nothing.
    return "" if position == START else position.cursor()


async def wait_for_page(
    session: Session, reader: EventReader, after: Position, limit: int, wait_seconds: float
) -> Page:
    """The next page, waiting up to ``wait_seconds`` for one that is not empty. Each look is
    a short query in a worker thread; between looks nothing is held (an asyncio sleep)."""
    deadline = anyio.current_time() + wait_seconds
    while True:
        page = await anyio.to_thread.run_sync(read_page, session, reader, after, limit)
        if page.items or anyio.current_time() >= deadline:
            return page
        await anyio.sleep(min(POLL_INTERVAL_SECONDS, max(0.0, deadline - anyio.current_time())))
