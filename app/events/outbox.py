"""Writing events with the change that causes them, and the order every reader sees them in.

Written at commit. ``emit`` queues an event on the session; it is inserted in the same
transaction just before it commits, and dropped if it rolls back: an event exists if and only
if its change does.

Order. Readers page by id, so ids must be given in commit order: otherwise on PostgreSQL a
transaction that took id 5 could commit after one that took id 6, and a reader that had passed
6 would never see 5. The events are therefore inserted under a transaction-scoped advisory
lock taken at commit time: event-writing commits queue for the last moment of their
transaction only (as they do for the audit chain's head), and reads take no lock at all.
SQLite runs one writer at a time, so its ids are in commit order already.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, event, insert, text
from sqlalchemy.orm import Session

from app.core.database import on_postgresql, utcnow
from app.core.errors import InvalidContent
from app.events.models import Event, EventRecipient

_EVENTS = cast(Table, Event.__table__)
_RECIPIENTS = cast(Table, EventRecipient.__table__)
_PENDING_KEY = "jtai_pending_events"
# One key for the whole service (any fixed 64-bit number): "jtai.events".
_COMMIT_ORDER_LOCK = text("SELECT pg_advisory_xact_lock(7317291503214470739)")


@dataclass(frozen=True)
class Audience:
    """Who may hear of an event. Readers still see only what their access lets them read:
    the inspection must be visible to them (an inspector on its team, a participant)."""

    organisations: tuple[uuid.UUID, ...] = ()
    inspectors: bool = False
    participants: bool = False
    required_role: str | None = None


@dataclass(frozen=True)
class _Pending:
    values: dict[str, Any]
    recipients: list[uuid.UUID]
    occurred_at: datetime = field(default_factory=utcnow)


def emit(
    session: Session,
    event_type: str,
    *,
    inspection_id: uuid.UUID | None,
    resource_type: str,
    resource_id: object,
    url: str,
    audience: Audience,
) -> None:
    """Queue one event; it is written in this session's transaction when that commits."""
    values: dict[str, Any] = {
        "event_type": event_type,
        "inspection_id": inspection_id,
        "resource_type": resource_type,
        "resource_id": str(resource_id),
        "resource_url": url,
        "to_inspectors": audience.inspectors,
        "to_participants": audience.participants,
        "required_role": audience.required_role,
    }
    pending = _Pending(values, list(dict.fromkeys(audience.organisations)))
    session.info.setdefault(_PENDING_KEY, []).append(pending)


def _write(session: Session, pending: Iterable[_Pending]) -> None:
    if on_postgresql(session):
        session.execute(_COMMIT_ORDER_LOCK)
    for event_row in pending:
        values = {**event_row.values, "occurred_at": event_row.occurred_at}
        event_id = session.execute(
            insert(_EVENTS).values(values).returning(_EVENTS.c.id)
        ).scalar_one()
        if event_row.recipients:
            session.execute(
                insert(_RECIPIENTS),
                [{"event_id": event_id, "organisation_id": org} for org in event_row.recipients],
            )


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending: list[_Pending] = session.info.pop(_PENDING_KEY, [])
    if pending:
        _write(session, pending)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


@dataclass(frozen=True, order=True)
class Position:
    """A place in the event order, given to clients as an opaque cursor."""

    id: int

    def cursor(self) -> str:
        return str(self.id)

    @classmethod
    def of(cls, event_row: Event) -> Position:
        return cls(event_row.id)


START = Position(0)


def parse_cursor(cursor: str | None) -> Position:
    """A cursor a client was given back, or the start; 422 naming it when it is not one."""
    if cursor is None or cursor == "":
        return START
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
        raise InvalidContent(
            "'after' is not a cursor this service gave: use the 'next_cursor' of a page.",
            code="invalid_cursor",
        )
    return Position(int(cursor))


def settled_after(session: Session, after: Position) -> list[ColumnElement[bool]]:
    """Conditions selecting the events past ``after``; order by ORDER to read them in order.

    (Takes the session so a reader's conditions may depend on the database; today both
    databases give ids in commit order.)"""
    del session
    return [Event.id > after.id]


ORDER = (Event.id,)
