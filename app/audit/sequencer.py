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
from sqlalchemy import BigInteger, Table, any_, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, sessionmaker

from app.audit.links import ENTRY_FIELDS, extend, lock_head
from app.audit.models import PendingRead
from app.core.database import on_postgresql, session_scope

logger = logging.getLogger("jtai.audit")

# Reads linked per transaction by the service's loop: the head stays locked while a batch is
# linked (a few tens of ms for these), so changes wait at most that; a bulk load links in
# bigger batches (``run_sequencer(batch=...)``).
BATCH = 2000
_QUEUE = cast(Table, PendingRead.__table__)
_ANY_WAITING = select(_QUEUE.c.id).limit(1)
# Whole rows, so PostgreSQL reads them by a plain index scan, which marks the index entries
# of rows already taken (deleted) as dead on its way: an index-only scan of the ids would
# wade through every one of them again, until a vacuum, on each run after a burst.
_OLDEST = (
    select(_QUEUE.c.id, *(_QUEUE.c[name] for name in ENTRY_FIELDS))
    .order_by(_QUEUE.c.id)
    .limit(bindparam("limit"))
)
# Exactly the rows read are taken off the queue (a read committing meanwhile is left for the
# next run, whatever its id): by an array on PostgreSQL, a list of ids elsewhere.
_TAKEN = delete(_QUEUE).where(_QUEUE.c.id.in_(bindparam("ids", expanding=True)))
_TAKEN_PG = delete(_QUEUE).where(_QUEUE.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))


def chain_pending(session: Session, limit: int = BATCH) -> int:
    """Link up to ``limit`` pending reads into the chain in this transaction; how many."""
    if session.execute(_ANY_WAITING).first() is None:
        # Nothing waiting: no lock (on SQLite the whole database's) for audit readers to
        # queue behind. A read committed after this look waits for the next run, as it would.
        return 0
    seq, prev_hash = lock_head(session)
    rows = session.execute(_OLDEST, {"limit": limit}).mappings().all()
    extend(session, seq, prev_hash, rows)
    taken = _TAKEN_PG if on_postgresql(session) else _TAKEN
    session.execute(taken, {"ids": [row["id"] for row in rows]})
    return len(rows)


def chain_all_pending(session: Session) -> int:
    """Link every read pending now, in this transaction (before the chain is read back)."""
    linked = 0
    while (batch := chain_pending(session)) == BATCH:
        linked += batch
    return linked + batch


def pending_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(_QUEUE)).scalar_one())


def run_sequencer(factory: sessionmaker[Session], batch: int = BATCH) -> int:
    """Link every pending read, ``batch`` per transaction so the lock is held briefly."""
    linked = 0
    while True:
        with session_scope(factory) as session:
            taken = chain_pending(session, batch)
        linked += taken
        if taken < batch:
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
