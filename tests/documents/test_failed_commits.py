"""A document's object is kept only if the transaction recording it commits (local store).

The same against SeaweedFS is in ``test_documents_on_s3``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.config import Settings
from app.documents.models import Document, Upload, UploadState
from tests.conftest import Reader
from tests.documents.failing_commit import commits_of_documents_fail
from tests.factories import PDF, Factory


def _objects(settings: Settings) -> set[Path]:
    return {path for path in Path(settings.resolved_storage_dir).rglob("*") if path.is_file()}


def test_a_streamed_upload_whose_commit_fails_leaves_no_object(
    app: FastAPI, client: TestClient, factory: Factory, db: Reader, settings: Settings
) -> None:
    world = factory.world()
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    before = _objects(settings)
    with commits_of_documents_fail(app.state.jtai.session_factory) as refused:
        response = client.post(
            f"/v1/requests/{request_id}/documents",
            files={"file": ("late.pdf", PDF + b"x" * 100_000, "application/pdf")},
            headers=world.agency.headers,
        )
    assert refused == ["document"]  # the object was stored and its row flushed, then this
    assert response.status_code == 500
    assert db.all(select(Document)) == []
    assert _objects(settings) == before


def _plan_body(data: bytes) -> dict[str, object]:
    return {"filename": "scan.pdf", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_a_completed_upload_whose_commit_fails_leaves_no_object(
    app: FastAPI, client: TestClient, factory: Factory, db: Reader, settings: Settings
) -> None:
    world = factory.world()
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    data = PDF * 10
    plan = client.post(
        f"/v1/requests/{request_id}/uploads",
        json=_plan_body(data),
        headers=world.agency.headers,
    ).json()
    part = client.put(plan["parts"][0]["url"], content=data, headers=world.agency.headers)
    assert part.status_code == 200
    before = _objects(settings)
    with commits_of_documents_fail(app.state.jtai.session_factory) as refused:
        response = client.post(
            plan["complete_url"], json={"parts": [part.json()]}, headers=world.agency.headers
        )
    assert refused == ["document"]
    assert response.status_code == 500
    assert db.all(select(Document)) == []
    assert [upload.state for upload in db.all(select(Upload))] == [UploadState.COMPLETING]
    # The assembled object is gone at once; the sweeper ends the upload row once it expires.
    assert _objects(settings) <= before


def test_an_upload_whose_commit_succeeds_keeps_its_object(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    world = factory.world()
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    before = _objects(settings)
    response = client.post(
        f"/v1/requests/{request_id}/documents",
        files={"file": ("kept.pdf", PDF, "application/pdf")},
        headers=world.agency.headers,
    )
    assert response.status_code == 201
    assert len(_objects(settings) - before) == 1
    content = client.get(
        f"/v1/documents/{response.json()['id']}/content", headers=world.lead.headers
    )
    assert content.content == PDF
