"""The audit chain: every change appends a linked row; verify finds the first broken one."""

from __future__ import annotations

import itertools
import threading
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from app.audit import chain
from app.audit.models import AuditEvent
from app.audit.service import verify_chain
from app.core.database import make_session_factory, session_scope
from tests.conftest import Reader
from tests.factories import Factory, World


def _events(db: Reader) -> list[AuditEvent]:
    return db.all(select(AuditEvent).order_by(AuditEvent.seq))


def test_changes_are_audited_in_an_unbroken_chain(
    client: TestClient, factory: Factory, db: Reader
) -> None:
    world = factory.world()
    response = client.put(
        f"/v1/inspections/{world.inspection_id}/status",
        json={"status": "fieldwork"},
        headers={**world.lead.headers, "X-Request-ID": "req-status-1"},
    )
    assert response.status_code == 200
    events = _events(db)
    last = events[-1]
    assert last.action == "inspection.status_changed"
    assert last.client_id == world.lead.client_id
    assert last.inspection_id == world.inspection_id
    assert last.request_id == "req-status-1"
    assert last.detail == {"from": "notified", "to": "fieldwork"}
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    verified = client.get("/v1/audit/verify", headers=world.operator.headers).json()
    assert verified["valid"] is True
    assert verified["events_checked"] == len(events)


def test_a_refused_change_leaves_no_audit_row(
    client: TestClient, factory: Factory, db: Reader
) -> None:
    world = factory.world()
    before = len(_events(db))
    response = client.put(
        f"/v1/inspections/{world.inspection_id}/status",
        json={"status": "closed"},
        headers=world.lead.headers,
    )
    assert response.status_code == 409
    assert len(_events(db)) == before


def test_inspection_audit_is_filtered_and_paged(client: TestClient, factory: Factory) -> None:
    world = factory.world()
    for status in ("fieldwork", "reporting"):
        client.put(
            f"/v1/inspections/{world.inspection_id}/status",
            json={"status": status},
            headers=world.lead.headers,
        )
    url = f"/v1/inspections/{world.inspection_id}/audit"
    page = client.get(
        url, params={"action": "inspection.status_changed", "limit": 1}, headers=world.lead.headers
    ).json()
    assert [item["detail"]["to"] for item in page["items"]] == ["fieldwork"]
    following = client.get(
        url,
        params={"action": "inspection.status_changed", "after_seq": page["next_after_seq"]},
        headers=world.lead.headers,
    ).json()
    assert [item["detail"]["to"] for item in following["items"]] == ["reporting"]
    assert following["next_after_seq"] is None
    other = client.get(
        f"/v1/inspections/{world.other_inspection_id}/audit", headers=world.operator.headers
    ).json()
    assert all(item["inspection_id"] == str(world.other_inspection_id) for item in other["items"])


def _make_some_history(client: TestClient, factory: Factory) -> World:
    world = factory.world()
    for status in ("fieldwork", "reporting", "closed"):
        response = client.put(
            f"/v1/inspections/{world.inspection_id}/status",
            json={"status": status},
            headers=world.lead.headers,
        )
        assert response.status_code == 200
    return world


def test_verify_names_the_tampered_row(
    client: TestClient, factory: Factory, fresh_engine: Engine
) -> None:
    world = _make_some_history(client, factory)
    with fresh_engine.begin() as connection:
        seqs = connection.execute(text("SELECT seq FROM audit_events ORDER BY seq")).scalars().all()
        target = seqs[len(seqs) // 2]
        connection.execute(
            text("UPDATE audit_events SET action = 'forged' WHERE seq = :seq"), {"seq": target}
        )
    result = client.get("/v1/audit/verify", headers=world.operator.headers).json()
    assert result["valid"] is False
    assert result["first_broken_seq"] == target
    assert result["head_seq"] == target - 1


def test_verify_notices_a_deleted_row(
    client: TestClient, factory: Factory, fresh_engine: Engine
) -> None:
    world = _make_some_history(client, factory)
    with fresh_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    result = client.get("/v1/audit/verify", headers=world.operator.headers).json()
    assert result["valid"] is False
    assert result["first_broken_seq"] == 3


def test_concurrent_writers_keep_one_chain(fresh_engine: Engine, engine: Engine) -> None:
    factory = make_session_factory(fresh_engine)
    writers, per_writer = 8, 10
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def write(worker: int) -> None:
        try:
            barrier.wait()
            for index in range(per_writer):
                with session_scope(factory) as session:
                    chain.record(
                        session,
                        None,
                        "test.concurrent",
                        "worker",
                        f"{worker}-{index}",
                        inspection_id=uuid.uuid4(),
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_scope(factory) as session:
        result = verify_chain(session)
        assert result.valid, result.problem
        assert result.events_checked == writers * per_writer
        assert result.head_seq == writers * per_writer


def test_verify_notices_rows_cut_from_the_end(
    client: TestClient, factory: Factory, fresh_engine: Engine
) -> None:
    """Deleting the newest rows leaves every remaining link intact: the head tells."""
    world = _make_some_history(client, factory)
    with fresh_engine.begin() as connection:
        last = connection.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
        connection.execute(text("DELETE FROM audit_events WHERE seq >= :seq"), {"seq": last - 1})
    result = client.get(
        "/v1/audit/verify", params={"from": "genesis"}, headers=world.operator.headers
    ).json()
    assert result["valid"] is False
    assert result["first_broken_seq"] == last - 1
    assert "rows are missing" in result["problem"]
