"""Nil returns: an agency answers "none held", with a reason, for a request or one kind of a
case-file request (issue 16, "No way to say 'we hold nothing'")."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.documents.models import NilReturn
from tests.conftest import Reader
from tests.documents.test_document_kinds import (
    COUNCIL_KINDS,
    council_case_file,
    request_now,
    upload,
)
from tests.factories import Factory, World

REASON = "No recent examples exist: the sub-group has not met in the last 12 months."


def nil_return(
    client: TestClient, actor: Any, request_id: str, reason: str = REASON, **more: Any
) -> Any:
    headers = actor.headers | more.pop("headers", {})
    return client.post(
        f"/v1/requests/{request_id}/nil-return",
        json={"reason": reason, **more},
        headers=headers,
    )


@pytest.fixture
def item_id(factory: Factory, world: World) -> str:
    """An information item asked of the council (a request without kinds)."""
    return str(factory.document_request(world.inspection_id, world.agency.organisation_id))


def test_an_agency_holding_nothing_says_so_and_the_request_is_answered(
    client: TestClient, world: World, item_id: str, db: Reader
) -> None:
    assert request_now(client, world, item_id)["state"] == "open"
    said = nil_return(client, world.agency, item_id)
    assert said.status_code == 201, said.text
    body = said.json()
    assert body["reason"] == REASON
    assert body["document_kind"] is None
    assert body["late"] is False
    assert body["withdrawn_at"] is None

    now = request_now(client, world, item_id)  # as the lead reads it
    assert now["state"] == "answered"
    assert [n["reason"] for n in now["nil_returns"]] == [REASON]
    assert now["answers"] == [
        {
            "document_kind": None,
            "title": None,
            "status": "nil_return",
            "answered_at": now["answers"][0]["answered_at"],
            "late": False,
            "document_id": None,
            "document_received_at": None,
            "nil_return_id": body["id"],
            "nil_return_reason": REASON,
            "answered_by_organisation_id": str(world.agency.organisation_id),
        }
    ]
    for actor in (world.inspector, world.agency):  # inspectors, and the agency itself
        rows = client.get(
            f"/v1/inspections/{world.inspection_id}/submissions", headers=actor.headers
        ).json()
        council = next(r for r in rows if r["organisation_id"] == str(world.agency.organisation_id))
        assert [n["reason"] for n in council["nil_returns"]] == [REASON]
        assert item_id not in {r["id"] for r in council["open_requests"]}

    recorded = db.all(select(AuditEvent).where(AuditEvent.action == "nil_return.recorded"))
    assert [(e.client_id, e.object_id) for e in recorded] == [(world.agency.client_id, body["id"])]
    # The reason is the case's, kept with the nil return (purged with it), not in the trail.
    assert REASON not in str(recorded[0].detail)


def test_a_case_file_request_takes_a_nil_return_per_kind(
    client: TestClient, factory: Factory, world: World
) -> None:
    request_id = council_case_file(client, factory, world)["id"]
    missing = nil_return(client, world.agency, request_id)
    assert missing.status_code == 422
    assert missing.json()["code"] == "document_kind_required"
    assert missing.json()["errors"][0]["field"] == "body.kind"
    assert missing.json()["allowed_document_kinds"] == COUNCIL_KINDS
    wrong = nil_return(client, world.agency, request_id, document_kind="pre-sentence-report")
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "invalid_document_kind"

    said = nil_return(
        client,
        world.agency,
        request_id,
        "No return home interview: never missing.",
        kind="return-home-interview",
    )
    assert said.status_code == 201, said.text
    now = request_now(client, world, request_id)
    assert now["state"] == "partly_answered"
    by_kind = {a["document_kind"]: a for a in now["answers"]}
    assert by_kind["return-home-interview"]["status"] == "nil_return"
    assert by_kind["return-home-interview"]["nil_return_reason"].startswith("No return home")
    assert by_kind["plan"]["status"] == "owed"


def test_an_upload_of_the_kind_withdraws_the_nil_return(
    client: TestClient, factory: Factory, world: World, db: Reader
) -> None:
    request_id = council_case_file(client, factory, world)["id"]
    said = nil_return(client, world.agency, request_id, document_kind="chronology").json()
    other = nil_return(client, world.agency, request_id, document_kind="plan").json()
    sent = upload(client, world.agency, request_id, "chronology.pdf", "chronology")
    assert sent.status_code == 201, sent.text

    now = request_now(client, world, request_id)
    history = {n["id"]: n for n in now["nil_returns"]}
    assert set(history) == {said["id"], other["id"]}  # kept, withdrawn
    assert history[said["id"]]["withdrawn_by_document_id"] == sent.json()["id"]
    assert history[said["id"]]["withdrawn_at"] is not None
    assert history[other["id"]]["withdrawn_at"] is None  # another kind: still stands
    by_kind = {a["document_kind"]: a for a in now["answers"]}
    assert by_kind["chronology"]["status"] == "received"
    assert by_kind["chronology"]["nil_return_id"] is None
    # Answered since the nil return: the document did not move the time.
    assert by_kind["chronology"]["answered_at"] == history[said["id"]]["created_at"]
    assert by_kind["plan"]["status"] == "nil_return"
    withdrawn = db.all(select(AuditEvent).where(AuditEvent.action == "nil_return.withdrawn"))
    assert [e.object_id for e in withdrawn] == [said["id"]]


def test_none_held_after_a_document_of_the_kind_is_409(
    client: TestClient, factory: Factory, world: World, item_id: str
) -> None:
    assert upload(client, world.agency, item_id, "a.pdf", None).status_code == 201
    refused = nil_return(client, world.agency, item_id)
    assert refused.status_code == 409
    assert refused.json()["code"] == "document_already_sent"
    request_id = council_case_file(client, factory, world)["id"]
    assert upload(client, world.agency, request_id, "p.pdf", "plan").status_code == 201
    assert nil_return(client, world.agency, request_id, document_kind="plan").status_code == 409
    assert (
        nil_return(client, world.agency, request_id, document_kind="assessment").status_code == 201
    )


def test_a_second_nil_return_replaces_the_first(
    client: TestClient, world: World, item_id: str, db: Reader
) -> None:
    first = nil_return(client, world.agency, item_id, "None held.").json()
    second = nil_return(client, world.agency, item_id, "None held since the 2025 restructure.")
    assert second.status_code == 201
    assert second.json()["supersedes_id"] == first["id"]
    now = request_now(client, world, item_id)
    assert now["answers"][0]["nil_return_reason"] == "None held since the 2025 restructure."
    assert now["answers"][0]["answered_at"] == first["created_at"]
    stored = {n.id: n for n in db.all(select(NilReturn))}
    assert stored[uuid.UUID(first["id"])].withdrawn_at is not None
    assert stored[uuid.UUID(first["id"])].withdrawn_by_document_id is None


def test_only_the_addressee_records_one(
    client: TestClient, factory: Factory, world: World, item_id: str, db: Reader
) -> None:
    police = factory.actor_in(world, "police")
    for actor in (police, world.other_area_agency):
        assert nil_return(client, actor, item_id).status_code == 404
    assert nil_return(client, world.lead, item_id).status_code == 403
    assert nil_return(client, world.agency, str(uuid.uuid4())).status_code == 404
    assert db.all(select(NilReturn)) == []


@pytest.mark.parametrize("reason", ["", "   ", "x" * 4001])
def test_a_reason_is_required(client: TestClient, world: World, item_id: str, reason: str) -> None:
    refused = nil_return(client, world.agency, item_id, reason)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.reason"


def test_an_idempotency_key_replays_the_nil_return(
    client: TestClient, world: World, item_id: str, db: Reader
) -> None:
    key = {"Idempotency-Key": "nil-1.1"}
    first = nil_return(client, world.agency, item_id, headers=key)
    again = nil_return(client, world.agency, item_id, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(db.all(select(NilReturn))) == 1
    changed = nil_return(client, world.agency, item_id, "Another reason.", headers=key)
    assert changed.status_code == 422
    assert changed.json()["code"] == "idempotency_key_reused"
