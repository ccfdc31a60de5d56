"""Linking entries into the audit chain, many at once, and the bytes each link hashes.

The hashed bytes are the chain's format and never change: a JSON object of the twelve fields
of ``canonical``, keys sorted, no spaces, not ASCII-escaped, the time in ISO form to the
microsecond, UUIDs as text. They are built here from plain values (a dict, a row read back),
not from ORM instances: making an instance cost more than hashing it, and linking ran at a
few thousand events a second. A batch is written in one statement (COPY on PostgreSQL), and
the head moved once for it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent, AuditHead
from app.core.database import on_postgresql

GENESIS_HASH = "0" * 64
EVENTS = cast(Table, AuditEvent.__table__)
COLUMNS = tuple(column.name for column in EVENTS.columns)
# What an entry to link carries: every column but its place in the chain.
ENTRY_FIELDS = tuple(name for name in COLUMNS if name not in ("seq", "prev_hash", "hash"))
_HEAD = cast(Table, AuditHead.__table__)
# A write to the head row: PostgreSQL locks the row and SQLite takes its write lock until the
# transaction ends, so concurrent linkers queue here and extend one chain.
_LOCK_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=_HEAD.c.seq)
    .returning(_HEAD.c.seq, _HEAD.c.hash)
)
_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)
_INSERT_EVENTS = insert(EVENTS)
_DETAIL = COLUMNS.index("detail")  # written to COPY as JSON text
_COPY_EVENTS = f"COPY {EVENTS.name} ({', '.join(COLUMNS)}) FROM STDIN"


def canonical(values: Mapping[Any, Any]) -> bytes:
    """The exact bytes hashed: sorted keys, no spaces, UTC microsecond timestamps."""
    body = {
        "seq": values["seq"],
        "occurred_at": values["occurred_at"].isoformat(timespec="microseconds"),
        "client_id": _text(values["client_id"]),
        "organisation_id": _text(values["organisation_id"]),
        "action": values["action"],
        "object_type": values["object_type"],
        "object_id": values["object_id"],
        "inspection_id": _text(values["inspection_id"]),
        "child_id": values["child_id"],
        "request_id": values["request_id"],
        "detail": values["detail"],
        "prev_hash": values["prev_hash"],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def link_hash(values: Mapping[Any, Any]) -> str:
    return hashlib.sha256(canonical(values)).hexdigest()


def lock_head(session: Session) -> tuple[int, str]:
    """Lock the head until this transaction ends; the sequence number and hash the chain
    ends with (the genesis, written now, before the first event)."""
    head = session.execute(_LOCK_HEAD).first()
    if head is None:
        session.execute(insert(_HEAD).values(id=1, seq=0, hash=GENESIS_HASH))
        return 0, GENESIS_HASH
    return int(head.seq), str(head.hash)


def extend(
    session: Session, seq: int, prev_hash: str, entries: Iterable[Mapping[Any, Any]]
) -> None:
    """Link the entries, in order, after the chain's end (``seq``, ``prev_hash``, as
    ``lock_head`` returned it in this transaction), write them and move the head to the last:
    two statements, whatever the count."""
    rows = []
    for entry in entries:
        seq += 1
        row = {name: entry[name] for name in ENTRY_FIELDS}
        row["seq"], row["prev_hash"] = seq, prev_hash
        row["hash"] = prev_hash = link_hash(row)
        rows.append(row)
    if rows:
        _write(session, rows)
        session.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev_hash})


def _write(session: Session, rows: list[dict[str, Any]]) -> None:
    if not on_postgresql(session):
        session.execute(_INSERT_EVENTS, rows)
        return
    connection = session.connection()
    # COPY, in the session's own transaction: several times faster than an executemany, and
    # it is the lock's holding time that it saves.
    driver: Any = connection.connection.driver_connection  # psycopg's, in this transaction
    cursor = driver.cursor()
    with cursor.copy(_COPY_EVENTS) as copy:
        for row in rows:
            values = [row[name] for name in COLUMNS]
            values[_DETAIL] = json.dumps(row["detail"])
            copy.write_row(values)
