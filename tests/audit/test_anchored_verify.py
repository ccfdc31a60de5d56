"""Verify from the last anchor: the anchored row, then only the links after it; `from=genesis`
(`jtai audit verify --full`) checks everything, every anchor too."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.audit import chain
from app.audit.service import VerifyResult, take_anchor, verify_chain
from app.core.database import make_session_factory, session_scope
from tests.factories import Factory, World


def _record(engine: Engine, count: int) -> None:
    with session_scope(make_session_factory(engine)) as session:
        for index in range(count):
            chain.record(session, None, "test.event", "thing", index, inspection_id=uuid.uuid4())


def _anchored(
    client: TestClient, factory: Factory, engine: Engine, after: int
) -> tuple[World, int]:
    """Some history, an anchor, then ``after`` more events; the anchor's seq."""
    world = factory.world()
    response = client.put(
        f"/v1/inspections/{world.inspection_id}/status",
        json={"status": "fieldwork"},
        headers=world.lead.headers,
    )
    assert response.status_code == 200
    _record(engine, 5)
    with session_scope(make_session_factory(engine)) as session:
        anchor_seq = take_anchor(session).seq
    _record(engine, after)
    return world, anchor_seq


def _forge(engine: Engine, seq: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_events SET action = 'forged' WHERE seq = :seq"), {"seq": seq}
        )


def _verify(engine: Engine, *, full: bool = False) -> VerifyResult:
    with session_scope(make_session_factory(engine)) as session:
        return verify_chain(session, full=full)


def test_verify_reads_only_the_rows_after_the_last_anchor(
    client: TestClient, factory: Factory, fresh_engine: Engine
) -> None:
    world, anchor_seq = _anchored(client, factory, fresh_engine, after=7)
    result = _verify(fresh_engine)
    assert result.valid, result.problem
    assert result.from_seq == anchor_seq
    assert result.events_checked == 7
    assert result.head_seq == anchor_seq + 7
    whole = _verify(fresh_engine, full=True)
    assert whole.valid, whole.problem
    assert (whole.from_seq, whole.events_checked, whole.head_seq) == (
        0,
        anchor_seq + 7,
        result.head_seq,
    )
    verified = client.get("/v1/audit/verify", headers=world.operator.headers).json()
    assert (verified["from_seq"], verified["events_checked"]) == (anchor_seq, 7)
    genesis = client.get(
        "/v1/audit/verify", params={"from": "genesis"}, headers=world.operator.headers
    ).json()
    assert (genesis["from_seq"], genesis["events_checked"]) == (0, anchor_seq + 7)


def test_verify_without_an_anchor_starts_at_the_genesis(
    client: TestClient, factory: Factory, fresh_engine: Engine
) -> None:
    world = factory.world()
    _record(fresh_engine, 3)
    verified = client.get("/v1/audit/verify", headers=world.operator.headers).json()
    assert verified["valid"] is True
    assert verified["from_seq"] == 0
    assert verified["events_checked"] == verified["head_seq"]


def test_an_unknown_start_is_refused(client: TestClient, factory: Factory) -> None:
    world = factory.world()
    response = client.get(
        "/v1/audit/verify", params={"from": "yesterday"}, headers=world.operator.headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "from" in response.text


def test_tampering_after_the_anchor_is_caught_by_default(
    client: TestClient, factory: Factory, fresh_engine: Engine
) -> None:
    _world, anchor_seq = _anchored(client, factory, fresh_engine, after=6)
    _forge(fresh_engine, anchor_seq + 3)
    result = _verify(fresh_engine)
    assert result.valid is False
    assert result.first_broken_seq == anchor_seq + 3
    assert result.events_checked == 2


def test_tampering_before_the_anchor_is_left_to_a_full_verify(
    client: TestClient, factory: Factory, fresh_engine: Engine
) -> None:
    _world, anchor_seq = _anchored(client, factory, fresh_engine, after=4)
    _forge(fresh_engine, anchor_seq - 2)
    assert _verify(fresh_engine).valid is True  # the price of starting at the anchor
    whole = _verify(fresh_engine, full=True)
    assert whole.valid is False
    assert whole.first_broken_seq == anchor_seq - 2


def test_tampering_with_the_anchored_row_is_caught_by_default(
    client: TestClient, factory: Factory, fresh_engine: Engine
) -> None:
    _world, anchor_seq = _anchored(client, factory, fresh_engine, after=4)
    _forge(fresh_engine, anchor_seq)
    result = _verify(fresh_engine)
    assert result.valid is False
    assert result.first_broken_seq == anchor_seq
    assert result.problem is not None
    assert "anchor" in result.problem
    assert _verify(fresh_engine, full=True).first_broken_seq == anchor_seq


def test_a_full_verify_checks_every_anchor(
    client: TestClient, factory: Factory, fresh_engine: Engine
) -> None:
    """An older anchor no longer on the chain (the chain rewritten from before it and
    re-hashed) is caught by the full verify, though the last anchor still matches."""
    _world, first_anchor = _anchored(client, factory, fresh_engine, after=3)
    with fresh_engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_anchors SET hash = :h WHERE seq = :seq"),
            {"h": "f" * 64, "seq": first_anchor},
        )
    with session_scope(make_session_factory(fresh_engine)) as session:
        last_anchor = take_anchor(session).seq
    default = _verify(fresh_engine)
    assert default.valid is True
    assert default.from_seq == last_anchor
    whole = _verify(fresh_engine, full=True)
    assert whole.valid is False
    assert whole.first_broken_seq == first_anchor
