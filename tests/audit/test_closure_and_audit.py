"""Closed inspections stop writes; subject-access logs; anchors catch a rewritten chain."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from app.audit.chain import compute_hash
from app.audit.models import AuditEvent
from app.audit.service import take_anchor, verify_chain
from app.core.database import make_session_factory, session_scope
from tests.factories import PDF, Factory, World
from tests.list_rows import cin_row, push_json


def _close(client: TestClient, world: World) -> None:
    for status in ("fieldwork", "reporting", "closed"):
        response = client.put(
            f"/v1/inspections/{world.inspection_id}/status",
            json={"status": status},
            headers=world.lead.headers,
        )
        assert response.status_code == 200


def test_a_closed_inspection_refuses_writes_but_can_be_read(
    client: TestClient, world: World, factory: Factory
) -> None:
    assert push_json(client, world, "children-in-need", [cin_row("C1")]).status_code == 201
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    _close(client, world)
    pushed = push_json(client, world, "children-in-need", [cin_row("C2")])
    assert pushed.status_code == 409
    assert pushed.json()["code"] == "inspection_closed"
    selected = client.put(
        f"/v1/inspections/{world.inspection_id}/selections/tracked",
        json={"child_ids": ["C1"]},
        headers=world.lead.headers,
    )
    assert selected.status_code == 409
    uploaded = client.post(
        f"/v1/requests/{request_id}/documents",
        files={"file": ("late.pdf", PDF, "application/pdf")},
        headers=world.agency.headers,
    )
    assert uploaded.status_code == 409
    read = client.get(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        headers=world.inspector.headers,
    )
    assert read.status_code == 200


def test_the_access_log_says_who_has_seen_a_child(client: TestClient, world: World) -> None:
    push_json(client, world, "children-in-need", [cin_row("C1"), cin_row("C2")])
    client.get(
        f"/v1/inspections/{world.inspection_id}/children/C1", headers=world.inspector.headers
    )
    client.get(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need", headers=world.lead.headers
    )
    url = f"/v1/inspections/{world.inspection_id}/children/C1/access-log"
    log = client.get(url, headers=world.lead.headers)
    assert log.status_code == 200
    seen = {(item["client_id"], item["action"]) for item in log.json()["items"]}
    assert (str(world.inspector.client_id), "child.viewed") in seen
    assert (str(world.lead.client_id), "list.read") in seen
    assert (str(world.agency.client_id), "list.pushed") in seen
    nobody = client.get(
        f"/v1/inspections/{world.inspection_id}/children/NOBODY/access-log",
        headers=world.lead.headers,
    ).json()
    assert nobody["items"] == []
    for actor in (world.inspector, world.agency, world.operator):
        assert client.get(url, headers=actor.headers).status_code == 403


def _rewrite_history(engine: Engine, seq: int) -> None:
    """What a careful attacker with database access does: change a row, re-hash the rest."""
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        rows = list(
            session.execute(
                select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)
            ).scalars()
        )
        previous = rows[0].prev_hash
        for row in rows:
            if row.seq == seq:
                row.action = "forged"
            row.prev_hash = previous
            row.hash = compute_hash(row)
            previous = row.hash
        session.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": previous})


def test_an_anchor_catches_a_rewritten_chain(
    client: TestClient, world: World, fresh_engine: Engine
) -> None:
    push_json(client, world, "children-in-need", [cin_row("C1")])
    factory = make_session_factory(fresh_engine)
    with session_scope(factory) as session:
        anchored = take_anchor(session)
    _rewrite_history(fresh_engine, anchored.seq)
    with session_scope(factory) as session:
        result = verify_chain(session)
    assert result.valid is False
    assert result.first_broken_seq == anchored.seq
    assert result.problem is not None
    assert "anchor" in result.problem
