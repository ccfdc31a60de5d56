"""Writing events with the change that causes them, and the order every reader sees them in.

Order. Ids come from a sequence, so on PostgreSQL a transaction that took id 5 may commit after
one that took id 6: a reader that had passed 6 would never see 5. Each event therefore carries
its writing transaction's id (``pg_current_xact_id()``), and readers see only events of
transactions older than every transaction still running (``pg_snapshot_xmin``), in
(transaction, id) order. No event can later appear before a position already read, and no
lock is taken on the write path. SQLite runs one writer at a time, so its ids are already in
commit order (``tx`` is 0).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import BigInteger, ColumnElement, Table, and_, insert, literal_column, or_
from sqlalchemy.orm import Session

from app.core.database import utcnow
from app.core.errors import InvalidContent
from app.events.models import Event, EventRecipient

_EVENTS = cast(Table, Event.__table__)
_RECIPIENTS = cast(Table, EventRecipient.__table__)
_PG_TX: ColumnElement[int] = literal_column("pg_current_xact_id()::text::bigint", BigInteger())
_PG_OWN_TX: ColumnElement[int] = literal_column(
    "pg_current_xact_id_if_assigned()::text::bigint", BigInteger()
)
_PG_HORIZON: ColumnElement[int] = literal_column(
    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger()
)


@dataclass(frozen=True)
class Audience:
    """Who may hear of an event. Readers still see only what their access lets them read:
    the inspection must be visible to them (an inspector on its team, a participant)."""

    organisations: tuple[uuid.UUID, ...] = ()
    inspectors: bool = False
    participants: bool = False
    required_role: str | None = None


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
    """Write one event in this session's transaction: it exists if and only if the change
    commits."""
    values: dict[str, Any] = {
        "tx": _PG_TX if _on_postgresql(session) else 0,
        "event_type": event_type,
        "occurred_at": utcnow(),
        "inspection_id": inspection_id,
        "resource_type": resource_type,
        "resource_id": str(resource_id),
        "resource_url": url,
        "to_inspectors": audience.inspectors,
        "to_participants": audience.participants,
        "required_role": audience.required_role,
    }
    event_id = session.execute(insert(_EVENTS).values(values).returning(_EVENTS.c.id)).scalar_one()
    recipients = _unique(audience.organisations)
    if recipients:
        session.execute(
            insert(_RECIPIENTS),
            [{"event_id": event_id, "organisation_id": org} for org in recipients],
        )


def _unique(organisations: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(organisations))


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@dataclass(frozen=True, order=True)
class Position:
    """A place in the event order, given to clients as an opaque cursor ``"<tx>.<id>"``."""

    tx: int
    id: int

    def cursor(self) -> str:
        return f"{self.tx}.{self.id}"

    @classmethod
    def of(cls, event: Event) -> Position:
        return cls(event.tx, event.id)


START = Position(-1, 0)


def parse_cursor(cursor: str | None) -> Position:
    """A cursor a client was given back, or the start; 422 naming it when it is not one."""
    if cursor is None or cursor == "":
        return START
    tx, dot, event_id = cursor.partition(".")
    if not dot or not _digits(tx) or not _digits(event_id):
        raise InvalidContent(
            "'after' is not a cursor this service gave: use the 'next_cursor' of a page.",
            code="invalid_cursor",
        )
    return Position(int(tx), int(event_id))


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 19


def settled_after(session: Session, after: Position) -> list[ColumnElement[bool]]:
    """Conditions selecting the events past ``after`` that no running transaction can still
    precede; order by (tx, id) to read them in order."""
    past = or_(
        Event.tx > after.tx,
        and_(Event.tx == after.tx, Event.id > after.id),
    )
    conditions: list[ColumnElement[bool]] = [past]
    if _on_postgresql(session):
        # A transaction also sees its own events (tests run each in one transaction; a
        # reader never writes events, so it has none of its own in the service).
        conditions.append(or_(Event.tx < _PG_HORIZON, Event.tx == _PG_OWN_TX))
    return conditions


ORDER = (Event.tx, Event.id)
