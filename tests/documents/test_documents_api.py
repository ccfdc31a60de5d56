"""Requests and documents through the API on the local store: uploads, checks, downloads."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.document_requests.models import DocumentRequest
from app.documents.models import Document
from tests.conftest import Reader
from tests.factories import PDF, Factory, World
from tests.list_rows import cin_row


@pytest.fixture
def request_id(factory: Factory, world: World) -> str:
    return str(factory.document_request(world.inspection_id, world.agency.organisation_id))


def _upload(
    client: TestClient, world: World, request_id: str, name: str, data: bytes, **kw: Any
) -> Any:
    return client.post(
        f"/v1/requests/{request_id}/documents",
        files={"file": (name, data, "application/octet-stream")},
        headers={**world.agency.headers, **kw.get("headers", {})},
    )


def test_streamed_upload_then_download(
    client: TestClient, world: World, request_id: str, db: Reader
) -> None:
    response = _upload(client, world, request_id, "case notes.pdf", PDF)
    assert response.status_code == 201, response.json()
    document = response.json()
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert document["size"] == len(PDF)
    assert document["media_type"] == "application/pdf"
    assert document["filename"] == "case notes.pdf"
    assert document["client_id"] == str(world.agency.client_id)
    content = client.get(f"/v1/documents/{document['id']}/content", headers=world.inspector.headers)
    assert content.status_code == 200
    assert content.content == PDF
    assert "attachment" in content.headers["content-disposition"]
    downloads = db.all(select(AuditEvent).where(AuditEvent.action == "document.downloaded"))
    assert downloads[-1].client_id == world.inspector.client_id


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("program.bin", b"MZ\x90\x00" + b"\x00" * 100, 415, "unsupported_document_type"),
        ("virus.exe", b"MZ\x90\x00" + b"\x00" * 100, 415, "blocked_file_extension"),
        ("fake.docx", b"PK\x03\x04" + b"\x00" * 100, 201, None),
        ("archive.zip", b"PK\x03\x04" + b"\x00" * 100, 415, "unsupported_document_type"),
        ("empty.pdf", b"", 422, "empty_file"),
    ],
)
def test_types_are_sniffed_and_empty_files_refused(
    client: TestClient,
    world: World,
    request_id: str,
    db: Reader,
    name: str,
    data: bytes,
    status: int,
    code: str | None,
) -> None:
    response = _upload(client, world, request_id, name, data)
    assert response.status_code == status
    if code:
        assert response.json()["code"] == code
        assert db.all(select(Document)) == []


def test_path_traversal_names_never_shape_keys(
    client: TestClient, app: FastAPI, world: World, request_id: str, db: Reader
) -> None:
    response = _upload(client, world, request_id, "../../../etc/passwd.pdf", PDF)
    assert response.status_code == 201
    stored = db.all(select(Document))[0]
    assert ".." not in stored.object_key
    assert stored.object_key.startswith(f"inspections/{world.inspection_id}/")
    content = client.get(
        f"/v1/documents/{response.json()['id']}/content", headers=world.agency.headers
    )
    assert "/" not in content.headers["content-disposition"].split("filename=")[1].split(";")[0]


@pytest.mark.commits
def test_oversize_upload_is_413_and_leaves_nothing(
    settings: Any, world: World, request_id: str, db: Reader, tmp_path: Any
) -> None:
    small = settings.model_copy(update={"max_upload_bytes": 4096, "storage_dir": tmp_path})
    from app.main import create_app

    with TestClient(create_app(small)) as small_client:
        response = _upload(small_client, world, request_id, "big.pdf", PDF + b"x" * 10_000)
    assert response.status_code == 413
    assert db.all(select(Document)) == []
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_other_agencies_and_inspections_see_nothing(
    client: TestClient, world: World, request_id: str, factory: Factory
) -> None:
    document = _upload(client, world, request_id, "a.pdf", PDF).json()
    other = factory.actor_in(world, "police")
    for actor in (world.other_area_agency, other):
        assert (
            client.get(f"/v1/documents/{document['id']}", headers=actor.headers).status_code == 404
        )
        assert _upload_as(client, actor, request_id).status_code == 404
    assert (
        client.get(f"/v1/documents/{document['id']}", headers=world.operator.headers).status_code
        == 403
    )
    assert (
        client.get(
            f"/v1/documents/{document['id']}", headers=world.outside_inspector.headers
        ).status_code
        == 404
    )


def _upload_as(client: TestClient, actor: Any, request_id: str) -> Any:
    return client.post(
        f"/v1/requests/{request_id}/documents",
        files={"file": ("x.pdf", PDF, "application/pdf")},
        headers=actor.headers,
    )


def test_presigned_flow_through_the_api_on_the_local_store(
    client: TestClient, world: World, request_id: str
) -> None:
    data = PDF + b"A" * (9 * 1024 * 1024)  # two parts of the 8 MiB minimum
    started = client.post(
        f"/v1/requests/{request_id}/uploads",
        json={
            "filename": "scan.pdf",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        headers=world.agency.headers,
    )
    assert started.status_code == 201, started.json()
    plan = started.json()
    assert len(plan["parts"]) == 2
    parts = []
    for part in plan["parts"]:
        start = (part["part_number"] - 1) * plan["part_size"]
        sent = client.put(
            part["url"],
            content=data[start : start + plan["part_size"]],
            headers=world.agency.headers,
        )
        assert sent.status_code == 200, sent.json()
        parts.append(sent.json())
    done = client.post(plan["complete_url"], json={"parts": parts}, headers=world.agency.headers)
    assert done.status_code == 201, done.json()
    assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()
    again = client.post(plan["complete_url"], json={"parts": parts}, headers=world.agency.headers)
    assert again.status_code == 409


def test_presigned_flow_with_a_wrong_hash_is_422_and_nothing_is_kept(
    client: TestClient, world: World, request_id: str, db: Reader
) -> None:
    data = PDF * 10
    started = client.post(
        f"/v1/requests/{request_id}/uploads",
        json={"filename": "scan.pdf", "size": len(data), "sha256": "0" * 64},
        headers=world.agency.headers,
    ).json()
    part = client.put(started["parts"][0]["url"], content=data, headers=world.agency.headers).json()
    done = client.post(
        started["complete_url"], json={"parts": [part]}, headers=world.agency.headers
    )
    assert done.status_code == 422
    assert done.json()["code"] == "upload_verification_failed"
    assert db.all(select(Document)) == []


def test_requests_are_derived_from_the_theme_and_tracked_children(
    client: TestClient, world: World, factory: Factory
) -> None:
    health = factory.actor_in(world, "health")
    factory.selection(world.inspection_id, "tracked", ["C1", "C2"])
    url = f"/v1/inspections/{world.inspection_id}/requests"
    everything = client.get(url, headers=world.lead.headers).json()
    case_files = [r for r in everything if r["kind"] == "case_file"]
    assert {(r["child_id"], r["addressee_organisation_id"]) for r in case_files} == {
        (child, org)
        for child in ("C1", "C2")
        for org in (str(world.agency.organisation_id), str(health.organisation_id))
    }
    items = [r for r in everything if r["kind"] == "information_item"]
    council_items = {
        r["item_number"]
        for r in items
        if r["addressee_organisation_id"] == str(world.agency.organisation_id)
    }
    assert "1.1" in council_items
    # Every request is due, but the council's optional note on the area's context.
    assert all(r["due_at"] for r in everything if r["kind"] != "context_note")
    mine = client.get(url, headers=health.headers).json()
    # Health sees what is asked of it, some of it asked of the partnership with the council.
    assert all(str(health.organisation_id) in r["addressee_organisation_ids"] for r in mine)
    assert {r["id"] for r in mine} == {
        r["id"]
        for r in everything
        if str(health.organisation_id) in r["addressee_organisation_ids"]
    }
    again = client.get(url, headers=world.lead.headers).json()
    assert {r["id"] for r in again} == {r["id"] for r in everything}


def _requests_as_stored(db: Reader) -> set[tuple[Any, ...]]:
    rows = db.all(select(DocumentRequest))
    return {(r.id, r.child_id, r.due_at, r.withdrawn) for r in rows}


def test_requests_follow_their_inputs_and_reads_write_nothing(
    client: TestClient, world: World, factory: Factory, app: FastAPI, db: Reader
) -> None:
    health = factory.actor_in(world, "health")
    factory.selection(world.inspection_id, "tracked", ["C1"])
    theme = app.state.jtai.themes.get("mental-health")
    milestone = theme.milestone_satisfied_by("documents_for_tracked_children").key
    moved = client.put(
        f"/v1/inspections/{world.inspection_id}/schedule/{milestone}",
        json={"due_at": "2030-04-30T16:00:00+00:00", "reason": "Council records outage"},
        headers=world.lead.headers,
    )
    assert moved.status_code == 200, moved.text
    # The move itself re-derived the due times: nobody has listed the requests yet.
    stored = _requests_as_stored(db)
    case_files = [row for row in stored if row[1] == "C1"]
    assert case_files
    assert {row[2] for row in case_files} == {datetime(2030, 4, 30, 16, tzinfo=ZoneInfo("UTC"))}

    listed = client.get(
        f"/v1/inspections/{world.inspection_id}/requests", headers=world.lead.headers
    )
    assert listed.status_code == 200
    assert _requests_as_stored(db) == stored  # a read writes nothing

    gone = client.delete(
        f"/v1/inspections/{world.inspection_id}/participants/{health.organisation_id}",
        headers=world.operator.headers,
    )
    assert gone.status_code == 204, gone.text
    withdrawn = db.all(
        select(DocumentRequest).where(
            DocumentRequest.addressee_organisation_id == health.organisation_id
        )
    )
    assert withdrawn
    assert all(request.withdrawn for request in withdrawn)


def test_answered_requests_and_submissions(
    client: TestClient, world: World, factory: Factory
) -> None:
    factory.selection(world.inspection_id, "tracked", ["C1"])
    url = f"/v1/inspections/{world.inspection_id}/requests"
    council = next(
        r for r in client.get(url, headers=world.agency.headers).json() if r["kind"] == "case_file"
    )
    assert council["state"] == "open"
    sent = client.post(
        f"/v1/requests/{council['id']}/documents",
        data={"document_kind": "plan"},
        files={"file": ("plan.pdf", PDF, "application/pdf")},
        headers=world.agency.headers,
    )
    assert sent.status_code == 201, sent.text
    answered = next(
        r for r in client.get(url, headers=world.agency.headers).json() if r["id"] == council["id"]
    )
    assert answered["state"] == "partly_answered"  # one kind of several: test_document_kinds.py
    rows = client.get(
        f"/v1/inspections/{world.inspection_id}/submissions", headers=world.lead.headers
    ).json()
    council_row = next(r for r in rows if r["organisation_id"] == str(world.agency.organisation_id))
    assert [d["filename"] for d in council_row["documents"]] == ["plan.pdf"]
    own = client.get(
        f"/v1/inspections/{world.inspection_id}/submissions", headers=world.agency.headers
    ).json()
    assert [r["organisation_id"] for r in own] == [str(world.agency.organisation_id)]


def test_cqc_asks_a_health_agency(client: TestClient, world: World, factory: Factory) -> None:
    health = factory.actor_in(world, "health")
    body = {
        "organisation_id": str(health.organisation_id),
        "title": "CAMHS records for child C1",
        "child_id": "C1",
        "due_at": "2030-03-18T17:00:00+00:00",
    }
    url = f"/v1/inspections/{world.inspection_id}/requests"
    # Neither CQC nor the lead asks about a child the lead does not track (C1 is not yet).
    for asker in (world.inspector, world.lead):
        refused = client.post(url, json=body, headers=asker.headers)
        assert refused.json()["code"] == "not_tracked"
    factory.stored_list(world.inspection_id, "children-in-need", [cin_row("C1")])
    factory.selection(world.inspection_id, "tracked", ["C1"])
    made = client.post(url, json=body, headers=world.inspector.headers)  # a CQC inspector
    assert made.status_code == 201, made.json()
    council = body | {"organisation_id": str(world.agency.organisation_id)}
    assert client.post(url, json=council, headers=world.inspector.headers).status_code == 422
    seen = client.get(url, headers=health.headers).json()
    assert [r["title"] for r in seen if r["kind"] == "cqc"] == ["CAMHS records for child C1"]


def test_two_inspections_of_the_same_agencies_get_their_own_requests(
    client: TestClient, world: World, factory: Factory
) -> None:
    second = factory.inspection(
        world.agency.organisation_id,
        "domestic-abuse",
        participants=[world.inspector.organisation_id],
    )
    first = client.get(
        f"/v1/inspections/{world.inspection_id}/requests", headers=world.agency.headers
    )
    other = client.get(f"/v1/inspections/{second}/requests", headers=world.agency.headers)
    assert first.status_code == other.status_code == 200
    assert not {r["id"] for r in first.json()} & {r["id"] for r in other.json()}


def test_a_file_name_longer_than_a_file_system_takes_is_422(
    client: TestClient, world: World, factory: Factory
) -> None:
    """200 emoji are 800 bytes: kept, then served in a ZIP no extractor could write out."""
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    response = client.post(
        f"/v1/requests/{request_id}/documents",
        files={"file": ("\U0001f600" * 200 + ".pdf", PDF, "application/pdf")},
        headers=world.agency.headers,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_filename"
