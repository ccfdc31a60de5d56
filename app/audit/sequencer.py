"""The sequencer: links pending reads into the audit chain, oldest first.

Reads are written as pending reads in the reader's own transaction (chain.record_read), so
every read is in the database before its response leaves, without the head's lock. Here they
are linked, under that lock, and deleted from the queue in the same transaction: a pending
read is either in the queue or in the chain, never both and never neither.

Order: the queue is read after the head is locked, and whatever it holds then is committed.
A read whose transaction commits late (with a lower id than reads already linked) is simply
linked by the next run, after them: the chain's order is the order reads were linked in
(``occurred_at`` keeps when each happened), and nothing is skipped, because a run takes what
is in the queue rather than "everything after the last id linked".

Run by the service's own loop (every JTAI_AUDIT_SEQUENCE_SECONDS), by `jtai jobs run`, and
before anything reads the chain back (audit pages, access logs, verify, anchors), so those see
every read. Several processes may run it at once: they queue on the head's lock.
"""

from __future__ import annotations

import logging
from typing import cast

import anyio
from anyio import to_thread
from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.audit.chain import AuditEntry, append
from app.audit.models import AuditHead, PendingRead
from app.core.database import session_scope

logger = logging.getLogger("jtai.audit")

BATCH = 1000
_HEAD = cast(Table, AuditHead.__table__)
_QUEUE = cast(Table, PendingRead.__table__)
# A write to the head row: PostgreSQL locks the row, SQLite takes its write lock, before the
# queue is read, so two sequencers never link the same reads.
_LOCK_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq)
_ANY_WAITING = select(_QUEUE.c.id).limit(1)
_OLDEST = select(_QUEUE).order_by(_QUEUE.c.id).limit(bindparam("limit"))
_TAKEN = delete(_QUEUE).where(_QUEUE.c.id.in_(bindparam("ids", expanding=True)))


def chain_pending(session: Session, limit: int = BATCH) -> int:
    """Link up to ``limit`` pending reads into the chain in this transaction; how many."""
    if session.execute(_ANY_WAITING).first() is None:
        # Nothing waiting: no lock (on SQLite the whole database's) for audit readers to
        # queue behind. A read committed after this look waits for the next run, as it would.
        return 0
    session.execute(_LOCK_HEAD)
    rows = session.execute(_OLDEST, {"limit": limit}).all()
    if not rows:
        return 0
    entries = [
        AuditEntry(
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            client_id=row.client_id,
            organisation_id=row.organisation_id,
            inspection_id=row.inspection_id,
            child_id=row.child_id,
            detail=row.detail,
            request_id=row.request_id,
            occurred_at=row.occurred_at,
        )
        for row in rows
    ]
    append(session, entries)
    session.execute(_TAKEN, {"ids": [row.id for row in rows]})
    return len(rows)


def chain_all_pending(session: Session) -> int:
    """Link every read pending now, in this transaction (before the chain is read back)."""
    linked = 0
    while (batch := chain_pending(session)) == BATCH:
        linked += batch
    return linked + batch


def pending_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(_QUEUE)).scalar_one())


def run_sequencer(factory: sessionmaker[Session]) -> int:
    """Link every pending read, a batch per transaction so the lock is held briefly."""
    linked = 0
    while True:
        with session_scope(factory) as session:
            batch = chain_pending(session)
        linked += batch
        if batch < BATCH:
            return linked


async def sequence_periodically(factory: sessionmaker[Session], every_seconds: float) -> None:
    """The service's loop: link pending reads, then a pause; a failed run is logged and the
    next one tries again (the reads wait in the queue meanwhile)."""
    while True:
        try:
            await to_thread.run_sync(run_sequencer, factory)
        except Exception:
            logger.exception("linking pending reads into the audit chain failed")
        await anyio.sleep(every_seconds)
