"""Reading and verifying the audit chain; no HTTP here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.audit.chain import GENESIS_HASH, compute_hash
from app.audit.models import AuditAnchor, AuditEvent, AuditHead
from app.core.database import utcnow

VERIFY_BATCH = 1000


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
    if criteria.since is not None:
        query = query.where(AuditEvent.occurred_at >= criteria.since)
    if criteria.until is not None:
        query = query.where(AuditEvent.occurred_at < criteria.until)
    return query


def list_events(
    session: Session, criteria: AuditFilter, *, after_seq: int, limit: int
) -> Sequence[AuditEvent]:
    query = _filtered(criteria).where(AuditEvent.seq > after_seq).order_by(AuditEvent.seq)
    return session.execute(query.limit(limit)).scalars().all()


@dataclass(frozen=True)
class VerifyResult:
    valid: bool
    events_checked: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None = None
    problem: str | None = None


def verify_chain(session: Session) -> VerifyResult:
    """Recompute every link, then check the chain still holds every anchor written down."""
    result = _verify_links(session)
    if not result.valid:
        return result
    for anchor in session.execute(select(AuditAnchor).order_by(AuditAnchor.seq)).scalars():
        row = session.get(AuditEvent, anchor.seq)
        if row is None or row.hash != anchor.hash:
            problem = f"the anchor taken at {anchor.created_at.isoformat()} no longer matches"
            return VerifyResult(
                False, result.events_checked, result.head_seq, result.head_hash, anchor.seq, problem
            )
    return result


def _verify_links(session: Session) -> VerifyResult:
    """Recompute every link in order; report the first row whose hash or link is wrong."""
    previous_hash, previous_seq, checked = GENESIS_HASH, 0, 0
    while True:
        batch = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.seq > previous_seq)
                .order_by(AuditEvent.seq)
                .limit(VERIFY_BATCH)
            )
            .scalars()
            .all()
        )
        if not batch:
            return VerifyResult(True, checked, previous_seq, previous_hash)
        for row in batch:
            problem = _link_problem(row, previous_seq, previous_hash)
            if problem is not None:
                return VerifyResult(False, checked, previous_seq, previous_hash, row.seq, problem)
            previous_hash, previous_seq = row.hash, row.seq
            checked += 1
        session.expunge_all()


def _link_problem(row: AuditEvent, previous_seq: int, previous_hash: str) -> str | None:
    if row.seq != previous_seq + 1:
        return f"sequence jumps from {previous_seq} to {row.seq}"
    if row.prev_hash != previous_hash:
        return "prev_hash does not match the previous row's hash"
    if compute_hash(row) != row.hash:
        return "the row's content does not match its hash"
    return None


def take_anchor(session: Session) -> AuditAnchor:
    """Write the chain's current head down, to be kept outside the database as well."""
    head = session.get(AuditHead, 1)
    anchor = AuditAnchor(
        seq=head.seq if head else 0, hash=head.hash if head else GENESIS_HASH, created_at=utcnow()
    )
    session.add(anchor)
    session.flush()
    return anchor
