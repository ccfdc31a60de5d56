"""The audit chain: entries queued during a unit of work are written at commit.

Writing at ``before_commit`` keeps the head row locked only for the end of a transaction,
while still putting the audit rows in the very transaction that made the change. Changes are
linked into the chain there and then; reads (``record_read``) are written as pending reads
and linked by the sequencer (app/audit/sequencer.py) within seconds, so that reads never wait
for the head's lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import Session

from app.audit.links import COLUMNS, extend, link_hash, lock_head
from app.audit.links import GENESIS_HASH as GENESIS_HASH  # where every chain starts
from app.audit.models import AuditEvent, PendingRead
from app.core.database import utcnow
from app.core.request_context import current_request_id

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


def compute_hash(event_row: AuditEvent) -> str:
    """An event's hash, computed again from its fields (the format is in app/audit/links.py)."""
    return link_hash({name: getattr(event_row, name) for name in COLUMNS})


_INSERT_READS = insert(cast(Table, PendingRead.__table__))


def append(session: Session, entries: Sequence[AuditEntry]) -> None:
    """Link the entries after the head and write them: three statements, whatever the count
    (the head locked and read, the rows, the head moved), with no ORM instances made: every
    audited change pays for this while it holds the head's lock."""
    seq, prev_hash = lock_head(session)
    extend(session, seq, prev_hash, [entry.__dict__ for entry in entries])


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
