"""Reads are recorded without the head's lock and linked into the chain by the sequencer:
nothing skipped, nothing linked twice, every read in the trail and in `verify`."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select

from app.audit import chain
from app.audit.models import AuditEvent, PendingRead
from app.audit.sequencer import chain_pending, pending_count, run_sequencer
from app.audit.service import verify_chain
from app.core.database import make_session_factory, session_scope, utcnow
from tests.conftest import Reader
from tests.factories import World
from tests.list_rows import cin_row, push_json


def _reads(db: Reader) -> list[AuditEvent]:
    return db.all(select(AuditEvent).where(AuditEvent.action == "list.read"))


def test_a_read_waits_in_the_queue_and_the_trail_shows_it(
    client: TestClient, world: World, db: Reader
) -> None:
    push_json(client, world, "children-in-need", [cin_row("C1")])
    url = f"/v1/inspections/{world.inspection_id}/lists/children-in-need"
    assert client.get(url, headers=world.lead.headers).status_code == 200
    assert _reads(db) == []
    assert len(db.all(select(PendingRead))) == 1
    # Reading the trail links what is pending first: the read is there, hashed and linked.
    trail = client.get(
        f"/v1/inspections/{world.inspection_id}/audit",
        params={"action": "list.read"},
        headers=world.lead.headers,
    ).json()
    assert [item["client_id"] for item in trail["items"]] == [str(world.lead.client_id)]
    assert len(trail["items"][0]["hash"]) == 64
    assert db.all(select(PendingRead)) == []
    verified = client.get("/v1/audit/verify", headers=world.operator.headers).json()
    assert verified["valid"] is True


def test_a_refused_read_leaves_nothing_pending(
    client: TestClient, world: World, db: Reader
) -> None:
    push_json(client, world, "children-in-need", [cin_row("C1")])
    url = f"/v1/inspections/{world.inspection_id}/lists/children-in-need?nosuchfield=1"
    assert client.get(url, headers=world.lead.headers).status_code == 422
    assert db.all(select(PendingRead)) == []


def _read_recorded(engine: Engine, name: str) -> None:
    with session_scope(make_session_factory(engine)) as session:
        chain.record_read(session, None, "test.read", "reader", name, inspection_id=uuid.uuid4())


def test_a_read_committed_after_later_ones_is_linked_not_skipped(
    fresh_engine: Engine, engine: Engine, db_kind: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip("SQLite has one writer at a time: no commit can overtake another")
    factory = make_session_factory(fresh_engine)
    slow = factory()  # a reader whose commit is slow: its queue id is the lower one
    slow.execute(
        insert(PendingRead).values(
            occurred_at=utcnow(),
            action="test.read",
            object_type="reader",
            object_id="slow",
            detail={},
        )
    )
    _read_recorded(fresh_engine, "fast")
    assert run_sequencer(factory) == 1
    slow.commit()
    slow.close()
    assert run_sequencer(factory) == 1
    with session_scope(factory) as session:
        linked = (
            session.execute(
                select(AuditEvent.object_id)
                .where(AuditEvent.action == "test.read")
                .order_by(AuditEvent.seq)
            )
            .scalars()
            .all()
        )
        assert linked == ["fast", "slow"]
        assert pending_count(session) == 0
        assert verify_chain(session).valid


def test_readers_and_sequencers_at_once_keep_one_chain(
    fresh_engine: Engine, engine: Engine
) -> None:
    factory = make_session_factory(fresh_engine)
    readers, per_reader = 6, 15
    errors: list[BaseException] = []
    done = threading.Event()

    def read(worker: int) -> None:
        try:
            for index in range(per_reader):
                _read_recorded(fresh_engine, f"{worker}-{index}")
        except BaseException as exc:
            errors.append(exc)

    def sequence() -> None:
        try:
            while not done.is_set():
                with session_scope(factory) as session:
                    chain_pending(session, limit=7)  # small batches: many runs interleave
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(n,)) for n in range(readers)]
    sequencers = [threading.Thread(target=sequence) for _ in range(2)]
    for thread in threads + sequencers:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    for thread in sequencers:
        thread.join()
    assert errors == []
    run_sequencer(factory)
    with session_scope(factory) as session:
        names = (
            session.execute(select(AuditEvent.object_id).where(AuditEvent.action == "test.read"))
            .scalars()
            .all()
        )
        assert sorted(names) == sorted(
            f"{w}-{i}" for w in range(readers) for i in range(per_reader)
        )
        assert session.execute(select(func.count()).select_from(PendingRead)).scalar_one() == 0
        result = verify_chain(session)
        assert result.valid, result.problem
        assert result.events_checked == readers * per_reader


def test_jobs_run_links_the_reads_waiting(jtai: Any, fresh_engine: Engine) -> None:
    _read_recorded(fresh_engine, "first")
    _read_recorded(fresh_engine, "second")
    ran = jtai("jobs", "run")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["audit_reads_linked"] == 2
    with session_scope(make_session_factory(fresh_engine)) as session:
        assert pending_count(session) == 0
        linked = session.execute(
            select(AuditEvent.object_id).where(AuditEvent.action == "test.read")
        ).scalars()
        assert sorted(linked) == ["first", "second"]
