"""Reading the audit chain: events by filter or in order, its head and its anchors; the
chain is written by chain.py alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, Select, func, select
from sqlalchemy.orm import Session

from app.audit.links import EVENTS
from app.audit.models import AuditAnchor, AuditEvent, AuditHead
from app.audit.redaction import CHILD_OBJECT_TYPES


@dataclass(frozen=True)
class AuditFilter:
    inspection_id: uuid.UUID
    action: str | None = None
    client_id: uuid.UUID | None = None
    object_type: str | None = None
    object_id: str | None = None
    child_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # An object ID searched for matches no row about a child (the operator's searches).
    without_children: bool = False


def _filtered(criteria: AuditFilter) -> Select[tuple[AuditEvent]]:
    query = select(AuditEvent).where(AuditEvent.inspection_id == criteria.inspection_id)
    conditions = {
        AuditEvent.action: criteria.action,
        AuditEvent.client_id: criteria.client_id,
        AuditEvent.object_type: criteria.object_type,
        AuditEvent.object_id: criteria.object_id,
        AuditEvent.child_id: criteria.child_id,
    }
    for column, value in conditions.items():
        if value is not None:
            query = query.where(column == value)
    if criteria.without_children and criteria.object_id is not None:
        query = query.where(
            AuditEvent.child_id.is_(None), AuditEvent.object_type.not_in(CHILD_OBJECT_TYPES)
        )
    if criteria.since is not None:
        query = query.where(AuditEvent.occurred_at >= criteria.since)
    if criteria.until is not None:
        query = query.where(AuditEvent.occurred_at < criteria.until)
    return query


def matching_events(
    session: Session, criteria: AuditFilter, *, after_seq: int, limit: int
) -> Sequence[AuditEvent]:
    """Up to ``limit`` events of the inspection that match, after ``after_seq``, in order."""
    query = _filtered(criteria).where(AuditEvent.seq > after_seq).order_by(AuditEvent.seq)
    return session.execute(query.limit(limit)).scalars().all()


def page_concerning_organisation(
    session: Session,
    organisation_id: uuid.UUID,
    actions: Sequence[str],
    *,
    limit: int,
    offset: int,
) -> tuple[Sequence[AuditEvent], int]:
    """A page of the events of these actions whose detail names the organisation they concern
    (``detail.organisation_id``, whoever acted), oldest first, and how many there are."""
    concerned = AuditEvent.detail["organisation_id"].as_string() == str(organisation_id)
    query = select(AuditEvent).where(AuditEvent.action.in_(actions), concerned)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(AuditEvent.seq).limit(limit).offset(offset))
    return rows.scalars().all(), int(total)


def events_after(session: Session, seq: int, limit: int) -> Sequence[AuditEvent]:
    """The next ``limit`` events of the whole chain after ``seq``, in order."""
    return (
        session.execute(
            select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq).limit(limit)
        )
        .scalars()
        .all()
    )


def stream_after(session: Session, seq: int, batch: int) -> Iterator[RowMapping]:
    """Every event of the chain after ``seq``, in order, as plain rows fetched ``batch`` at a
    time (a server-side cursor on PostgreSQL): verify reads millions this way, in constant
    memory and without making an ORM instance of each."""
    query = select(EVENTS).where(EVENTS.c.seq > seq).order_by(EVENTS.c.seq)
    with session.execute(query.execution_options(yield_per=batch)) as result:
        yield from result.mappings()


def event(session: Session, seq: int) -> AuditEvent | None:
    return session.get(AuditEvent, seq)


def anchors(session: Session) -> Iterable[AuditAnchor]:
    """Every anchor taken, oldest first."""
    return session.execute(select(AuditAnchor).order_by(AuditAnchor.seq)).scalars()


def last_anchor(session: Session) -> AuditAnchor | None:
    """The anchor furthest along the chain (the latest taken, as the chain only grows)."""
    query = select(AuditAnchor).order_by(AuditAnchor.seq.desc(), AuditAnchor.id.desc())
    return session.execute(query.limit(1)).scalars().first()


def head(session: Session) -> AuditHead | None:
    """The chain's last link, None before the first event."""
    return session.get(AuditHead, 1)
