"""The audit chain: entries queued during a unit of work are written at commit.

Writing at ``before_commit`` keeps the head row locked only for the end of a transaction,
while still putting the audit rows in the very transaction that made the change. Changes are
linked into the chain there and then; reads (``record_read``) are written as pending reads
and linked by the sequencer (app/audit/sequencer.py) within seconds, so that reads never wait
for the head's lock.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, event, insert, update
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent, AuditHead, PendingRead
from app.core.database import utcnow
from app.core.request_context import current_request_id

GENESIS_HASH = "0" * 64
_PENDING_KEY = "jtai_pending_audit"
_READS_KEY = "jtai_pending_reads"


class Actor(Protocol):
    """Who did it: an authenticated client (a Principal) of an organisation."""

    @property
    def client_id(self) -> uuid.UUID: ...

    @property
    def organisation_id(self) -> uuid.UUID: ...


@dataclass(frozen=True)
class AuditEntry:
    action: str
    object_type: str
    object_id: str | None
    client_id: uuid.UUID | None
    organisation_id: uuid.UUID | None
    inspection_id: uuid.UUID | None = None
    child_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None
    occurred_at: datetime = field(default_factory=utcnow)


def _entry(
    principal: Actor | None,
    action: str,
    object_type: str,
    object_id: object | None,
    inspection_id: uuid.UUID | None,
    child_id: str | None,
    detail: dict[str, Any] | None,
) -> AuditEntry:
    return AuditEntry(
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        client_id=principal.client_id if principal else None,
        organisation_id=principal.organisation_id if principal else None,
        inspection_id=inspection_id,
        child_id=child_id,
        detail=detail or {},
        request_id=current_request_id(),
    )


def record(
    session: Session,
    principal: Actor | None,
    action: str,
    object_type: str,
    object_id: object | None = None,
    *,
    inspection_id: uuid.UUID | None = None,
    child_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Queue an audit entry; it is linked into the chain in this session's transaction when
    it commits."""
    entry = _entry(principal, action, object_type, object_id, inspection_id, child_id, detail)
    session.info.setdefault(_PENDING_KEY, []).append(entry)


def record_read(
    session: Session,
    principal: Actor | None,
    action: str,
    object_type: str,
    object_id: object | None = None,
    *,
    inspection_id: uuid.UUID | None = None,
    child_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Queue the audit entry of a read: written in this session's transaction when it commits,
    so no read leaves unrecorded, but as a pending read (one INSERT, no lock) that the
    sequencer links into the chain within seconds. Linking every read at once made all reads
    of all inspections queue on the head's lock, one commit at a time."""
    entry = _entry(principal, action, object_type, object_id, inspection_id, child_id, detail)
    session.info.setdefault(_READS_KEY, []).append(entry)


def canonical_bytes(event_row: AuditEvent) -> bytes:
    """The exact bytes hashed: sorted keys, no spaces, UTC microsecond timestamps."""
    body = {
        "seq": event_row.seq,
        "occurred_at": event_row.occurred_at.isoformat(timespec="microseconds"),
        "client_id": _text(event_row.client_id),
        "organisation_id": _text(event_row.organisation_id),
        "action": event_row.action,
        "object_type": event_row.object_type,
        "object_id": event_row.object_id,
        "inspection_id": _text(event_row.inspection_id),
        "child_id": event_row.child_id,
        "request_id": event_row.request_id,
        "detail": event_row.detail,
        "prev_hash": event_row.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def compute_hash(event_row: AuditEvent) -> str:
    return hashlib.sha256(canonical_bytes(event_row)).hexdigest()


_EVENTS = cast(Table, AuditEvent.__table__)
_HEAD = cast(Table, AuditHead.__table__)
# Built once: every audited request runs all three while it holds the head's lock.
_CLAIM = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=_HEAD.c.seq + bindparam("count"))
    .returning(_HEAD.c.seq, _HEAD.c.hash)
)
_INSERT_EVENTS = insert(_EVENTS)
_INSERT_READS = insert(cast(Table, PendingRead.__table__))
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("new_hash"))


def _claim_seqs(session: Session, count: int) -> tuple[int, str]:
    """Lock the head and reserve ``count`` sequence numbers in one statement.

    Returns the sequence number and hash the new entries follow. The row lock is held until
    the transaction ends, so concurrent commits queue here and extend one chain.
    """
    claimed = session.execute(_CLAIM, {"count": count}).first()
    if claimed is None:  # the very first entry: the head row does not exist yet
        session.execute(insert(_HEAD).values(id=1, seq=0, hash=GENESIS_HASH))
        claimed = session.execute(_CLAIM, {"count": count}).one()
    return int(claimed.seq) - count, str(claimed.hash)


def append(session: Session, entries: Sequence[AuditEntry]) -> list[AuditEvent]:
    """Link the entries after the head and write them: three statements, whatever the count.

    Written with Core statements rather than the unit of work: every audited read pays for
    this, and the head stays locked while it runs.
    """
    seq, prev_hash = _claim_seqs(session, len(entries))
    written = []
    for entry in entries:
        seq += 1
        row = AuditEvent(
            seq=seq,
            occurred_at=entry.occurred_at,
            client_id=entry.client_id,
            organisation_id=entry.organisation_id,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            inspection_id=entry.inspection_id,
            child_id=entry.child_id,
            request_id=entry.request_id,
            detail=entry.detail,
            prev_hash=prev_hash,
        )
        row.hash = prev_hash = compute_hash(row)
        written.append(row)
    session.execute(_INSERT_EVENTS, [_values(row) for row in written])
    session.execute(_MOVE_HEAD, {"new_hash": prev_hash})
    return written


def _values(row: AuditEvent) -> dict[str, Any]:
    return {column.name: getattr(row, column.key) for column in _EVENTS.columns}


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending: list[AuditEntry] = session.info.pop(_PENDING_KEY, [])
    if pending:
        append(session, pending)
    reads: list[AuditEntry] = session.info.pop(_READS_KEY, [])
    if reads:
        session.execute(_INSERT_READS, [entry.__dict__ for entry in reads])


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
    session.info.pop(_READS_KEY, None)
