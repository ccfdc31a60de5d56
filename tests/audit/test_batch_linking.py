"""Reads linked thousands at a time (one COPY or executemany, the head moved once) make the
same chain, in the same hashed format, and verify still names a row tampered with in the
middle of a batch."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, text

from app.audit.models import AuditEvent, AuditHead, PendingRead
from app.audit.sequencer import pending_count, run_sequencer
from app.audit.service import take_anchor, verify_chain
from app.core.database import make_session_factory, session_scope

BATCH, READS = 400, 1000  # three batches, the last one short
START = datetime(2026, 12, 3, 9, 30, 0, 123456, tzinfo=UTC)
INSPECTION = uuid.UUID("00000000-0000-4000-8000-000000000019")


def _queue_reads(engine: Engine, count: int) -> None:
    rows = [
        {
            "occurred_at": START + timedelta(milliseconds=index),
            "client_id": uuid.UUID(int=index) if index % 3 else None,
            "organisation_id": None,
            "action": "list.read",
            "object_type": "list",
            "object_id": f"list-{index}",
            "inspection_id": INSPECTION,
            "child_id": "C1" if index % 7 == 0 else None,
            "request_id": None,
            "detail": {"rows": index, "état": "lu", "z": [1, {"b": 2, "a": None}]},
        }
        for index in range(count)
    ]
    with engine.begin() as connection:
        connection.execute(insert(PendingRead), rows)


def _linked(engine: Engine) -> int:
    factory = make_session_factory(engine)
    linked = run_sequencer(factory, batch=BATCH)
    with session_scope(factory) as session:
        assert pending_count(session) == 0
    return linked


def _expected_hash(row: AuditEvent) -> str:
    """The chain's hashed format written out by hand: if linking in batches changed a byte of
    it, chains written before would no longer verify."""
    when = row.occurred_at.isoformat(timespec="microseconds")
    body = (
        f'{{"action":"{row.action}","child_id":{json.dumps(row.child_id)},'
        f'"client_id":{json.dumps(None if row.client_id is None else str(row.client_id))},'
        '"detail":{"rows":' + str(row.detail["rows"]) + ',"z":[1,{"a":null,"b":2}],"état":"lu"},'
        f'"inspection_id":"{row.inspection_id}","object_id":"{row.object_id}",'
        f'"object_type":"list","occurred_at":"{when}",'
        f'"organisation_id":null,"prev_hash":"{row.prev_hash}","request_id":null,'
        f'"seq":{row.seq}}}'
    )
    return hashlib.sha256(body.encode()).hexdigest()


def test_a_batch_linked_chain_verifies_in_the_same_format(
    fresh_engine: Engine, engine: Engine
) -> None:
    _queue_reads(fresh_engine, READS)
    assert _linked(fresh_engine) == READS
    with session_scope(make_session_factory(fresh_engine)) as session:
        rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        assert [row.object_id for row in rows] == [f"list-{index}" for index in range(READS)]
        assert [row.seq for row in rows] == list(range(1, READS + 1))
        assert rows[0].occurred_at == START
        for row in (rows[0], rows[BATCH - 1], rows[BATCH], rows[-1]):  # across batch edges
            assert row.hash == _expected_hash(row)
        head = session.get(AuditHead, 1)
        assert head is not None
        assert (head.seq, head.hash) == (READS, rows[-1].hash)
        result = verify_chain(session, full=True)
    assert result.valid, result.problem
    assert result.events_checked == READS


def _tamper(engine: Engine, seq: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_events SET object_id = 'forged' WHERE seq = :seq"), {"seq": seq}
        )


def test_a_row_changed_in_the_middle_of_a_batch_is_named(
    fresh_engine: Engine, engine: Engine
) -> None:
    _queue_reads(fresh_engine, READS)
    _linked(fresh_engine)
    target = BATCH + BATCH // 2  # the middle of the second batch
    _tamper(fresh_engine, target)
    with session_scope(make_session_factory(fresh_engine)) as session:
        result = verify_chain(session, full=True)
    assert not result.valid
    assert result.first_broken_seq == target
    assert result.problem == "the row's content does not match its hash"
    assert result.events_checked == target - 1


def test_a_row_changed_after_the_anchor_is_named_from_the_anchor(
    fresh_engine: Engine, engine: Engine
) -> None:
    _queue_reads(fresh_engine, READS)
    factory = make_session_factory(fresh_engine)
    with session_scope(factory) as session:
        assert take_anchor(session).seq == READS  # the anchor links what is pending first
    _queue_reads(fresh_engine, READS)
    _linked(fresh_engine)
    _tamper(fresh_engine, READS + BATCH // 2)
    with session_scope(factory) as session:
        result = verify_chain(session)
    assert not result.valid
    assert result.from_seq == READS
    assert result.first_broken_seq == READS + BATCH // 2
    assert result.events_checked == BATCH // 2 - 1
