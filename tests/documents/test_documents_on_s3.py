"""The document flows through the API against a real S3 server (SeaweedFS)."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.core.config import Settings, StorageKind
from app.documents.models import Document, Upload, UploadState
from app.main import create_app
from tests.conftest import Reader
from tests.documents.failing_commit import commits_of_documents_fail
from tests.factories import PDF, Factory, World
from tests.storage.fixtures import empty_bucket
from tests.storage.seaweed import SeaweedS3

pytestmark = pytest.mark.commits  # an app of its own, on S3, reads what the factory wrote


@pytest.fixture(scope="module")
def s3_app(
    settings: Settings, seaweed_s3: SeaweedS3, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    patch = pytest.MonkeyPatch()
    patch.setenv("AWS_ACCESS_KEY_ID", seaweed_s3.access_key)
    patch.setenv("AWS_SECRET_ACCESS_KEY", seaweed_s3.secret_key)
    s3_settings = settings.model_copy(
        update={
            "storage": StorageKind.S3,
            "s3_bucket": f"jtai-api-{uuid.uuid4().hex[:10]}",
            "s3_endpoint_url": seaweed_s3.endpoint_url,
            "s3_region": seaweed_s3.region,
        }
    )
    application = create_app(s3_settings)
    yield application
    application.state.jtai.engine.dispose()
    patch.undo()


@pytest.fixture
def s3_client(s3_app: FastAPI, engine: Engine, seaweed_client: Any) -> Iterator[TestClient]:
    with TestClient(s3_app) as test_client:
        yield test_client
    empty_bucket(seaweed_client, s3_app.state.jtai.settings.s3_bucket)


def _request(s3_app: FastAPI, world: World) -> uuid.UUID:
    return Factory(s3_app).document_request(world.inspection_id, world.agency.organisation_id)


def test_streamed_upload_and_redirected_download(
    s3_client: TestClient, s3_app: FastAPI, world: World
) -> None:
    request_id = _request(s3_app, world)
    data = PDF + b"B" * (6 * 1024 * 1024)  # more than one 5 MiB part
    uploaded = s3_client.post(
        f"/v1/requests/{request_id}/documents",
        files={"file": ("big scan.pdf", data, "application/pdf")},
        headers=world.agency.headers,
    )
    assert uploaded.status_code == 201, uploaded.json()
    assert uploaded.json()["sha256"] == hashlib.sha256(data).hexdigest()
    url = f"/v1/documents/{uploaded.json()['id']}/content"
    streamed = s3_client.get(url, headers=world.lead.headers)
    assert streamed.content == data
    redirected = s3_client.get(
        url, params={"redirect": "true"}, headers=world.lead.headers, follow_redirects=False
    )
    assert redirected.status_code == 307
    presigned = redirected.headers["location"]
    assert "X-Amz-Expires=300" in presigned
    assert httpx.get(presigned).content == data  # the store itself, with no token


def test_presigned_parts_go_straight_to_the_store(
    s3_client: TestClient, s3_app: FastAPI, world: World, db: Reader
) -> None:
    data = PDF + b"C" * (9 * 1024 * 1024)
    plan = s3_client.post(
        f"/v1/requests/{_request(s3_app, world)}/uploads",
        json={
            "filename": "scan.pdf",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        headers=world.agency.headers,
    ).json()
    parts = []
    for part in plan["parts"]:
        assert part["url"].startswith("http")  # not through the API
        start = (part["part_number"] - 1) * plan["part_size"]
        sent = httpx.put(part["url"], content=data[start : start + plan["part_size"]])
        assert sent.status_code == 200
        parts.append({"part_number": part["part_number"], "etag": sent.headers["etag"]})
    done = s3_client.post(plan["complete_url"], json={"parts": parts}, headers=world.agency.headers)
    assert done.status_code == 201, done.json()
    assert [d.sha256 for d in db.all(select(Document))] == [hashlib.sha256(data).hexdigest()]


def test_a_lying_upload_is_deleted_from_the_store(
    s3_client: TestClient, s3_app: FastAPI, world: World, seaweed_client: Any
) -> None:
    data = PDF * 100
    plan = s3_client.post(
        f"/v1/requests/{_request(s3_app, world)}/uploads",
        json={"filename": "scan.pdf", "size": len(data), "sha256": "1" * 64},
        headers=world.agency.headers,
    ).json()
    sent = httpx.put(plan["parts"][0]["url"], content=data)
    done = s3_client.post(
        plan["complete_url"],
        json={"parts": [{"part_number": 1, "etag": sent.headers["etag"]}]},
        headers=world.agency.headers,
    )
    assert done.status_code == 422
    bucket = s3_app.state.jtai.settings.s3_bucket
    assert seaweed_client.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_readiness_checks_the_bucket(s3_client: TestClient) -> None:
    assert s3_client.get("/readyz").json()["checks"]["storage"] is True


def _plan(s3_client: TestClient, s3_app: FastAPI, world: World, data: bytes) -> Any:
    started = s3_client.post(
        f"/v1/requests/{_request(s3_app, world)}/uploads",
        json={
            "filename": "scan.pdf",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        headers=world.agency.headers,
    )
    assert started.status_code == 201, started.json()
    return started.json()


def _store_upload(db: Reader, plan: Any) -> Upload:
    (upload,) = db.all(select(Upload).where(Upload.id == uuid.UUID(plan["id"])))
    return upload


def _bucket_holds(seaweed_client: Any, s3_app: FastAPI) -> tuple[int, int]:
    bucket = s3_app.state.jtai.settings.s3_bucket
    objects = seaweed_client.list_objects_v2(Bucket=bucket).get("KeyCount", 0)
    uploads = len(seaweed_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))
    return objects, uploads


def test_a_plans_part_url_takes_only_its_size_for_15_minutes(
    s3_client: TestClient, s3_app: FastAPI, world: World, db: Reader, seaweed_client: Any
) -> None:
    plan = _plan(s3_client, s3_app, world, PDF)
    (part,) = plan["parts"]
    assert part["size"] == len(PDF)
    assert "X-Amz-Expires=900" in part["url"]
    assert httpx.put(part["url"], content=PDF + b"x" * (64 * 1024 * 1024)).status_code == 403
    assert httpx.put(part["url"], content=PDF[:-1]).status_code == 403
    upload = _store_upload(db, plan)
    parts = seaweed_client.list_parts(
        Bucket=s3_app.state.jtai.settings.s3_bucket,
        Key=upload.object_key,
        UploadId=upload.store_upload_id,
    )
    assert parts.get("Parts", []) == []


def test_completion_refuses_a_part_of_another_size_and_discards_the_upload(
    s3_client: TestClient, s3_app: FastAPI, world: World, db: Reader, seaweed_client: Any
) -> None:
    plan = _plan(s3_client, s3_app, world, PDF)
    upload = _store_upload(db, plan)
    # Sent with the store's own credentials, as through a store that ignored the signed length.
    sent = seaweed_client.upload_part(
        Bucket=s3_app.state.jtai.settings.s3_bucket,
        Key=upload.object_key,
        UploadId=upload.store_upload_id,
        PartNumber=1,
        Body=PDF + b"x" * 1000,
    )
    done = s3_client.post(
        plan["complete_url"],
        json={"parts": [{"part_number": 1, "etag": sent["ETag"]}]},
        headers=world.agency.headers,
    )
    assert done.status_code == 422
    assert done.json()["code"] == "part_size_mismatch"
    assert done.json()["errors"][0]["field"] == "body.parts[0]"
    expected = f"part 1 has {len(PDF) + 1000} bytes; the upload's plan says {len(PDF)}"
    assert done.json()["errors"][0]["message"] == expected
    assert _store_upload(db, plan).state is UploadState.ABORTED
    assert _bucket_holds(seaweed_client, s3_app) == (0, 0)
    assert db.all(select(Document)) == []


def test_racing_completions_on_s3_publish_one_document(
    s3_client: TestClient, s3_app: FastAPI, world: World, db: Reader, seaweed_client: Any
) -> None:
    data = PDF + b"R" * 4000
    plan = _plan(s3_client, s3_app, world, data)
    sent = httpx.put(plan["parts"][0]["url"], content=data)
    parts = {"parts": [{"part_number": 1, "etag": sent.headers["etag"]}]}
    racers = 8
    start = threading.Barrier(racers)
    results: list[Any] = []

    def complete() -> None:
        start.wait()
        results.append(
            s3_client.post(plan["complete_url"], json=parts, headers=world.agency.headers)
        )

    threads = [threading.Thread(target=complete) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in results) == [201] + [409] * (racers - 1)
    assert len(db.all(select(Document))) == 1
    assert _bucket_holds(seaweed_client, s3_app) == (1, 0)


def test_s3_errors_never_show_the_stores_upload_id(
    s3_client: TestClient, s3_app: FastAPI, world: World, db: Reader, seaweed_client: Any
) -> None:
    plan = _plan(s3_client, s3_app, world, PDF)
    sent = httpx.put(plan["parts"][0]["url"], content=PDF)
    parts = {"parts": [{"part_number": 1, "etag": sent.headers["etag"]}]}
    upload = _store_upload(db, plan)
    bucket = s3_app.state.jtai.settings.s3_bucket
    seaweed_client.abort_multipart_upload(
        Bucket=bucket, Key=upload.object_key, UploadId=upload.store_upload_id
    )
    api_part = f"/v1/uploads/{plan['id']}/parts/1"

    lost = [
        s3_client.put(api_part, content=PDF, headers=world.agency.headers),
        s3_client.post(plan["complete_url"], json=parts, headers=world.agency.headers),
    ]
    for response in lost:
        assert response.status_code == 409, response.json()
        assert response.json()["code"] == "upload_closed"
        assert upload.store_upload_id not in response.text

    second = _plan(s3_client, s3_app, world, PDF)
    second_upload = _store_upload(db, second)
    empty_bucket(seaweed_client, bucket)
    seaweed_client.delete_bucket(Bucket=bucket)  # the store fails under us
    try:
        down = [
            s3_client.put(
                f"/v1/uploads/{second['id']}/parts/1",
                content=PDF,
                headers=world.agency.headers,
            ),
            s3_client.post(second["complete_url"], json=parts, headers=world.agency.headers),
        ]
    finally:
        s3_app.state.jtai.storage.ensure_bucket()
    for response in down:
        assert response.status_code == 503, response.json()
        assert response.json()["code"] == "storage_unavailable"
        assert second_upload.store_upload_id not in response.text
        assert bucket not in response.text


def test_active_content_is_refused_on_the_store_and_deleted_from_it(
    s3_client: TestClient, s3_app: FastAPI, world: World, seaweed_client: Any
) -> None:
    request_id = _request(s3_app, world)
    bucket = s3_app.state.jtai.settings.s3_bucket
    page = b"<!DOCTYPE html><script>fetch('/v1/me')</script>\n"
    named = s3_client.post(
        f"/v1/requests/{request_id}/documents",
        files={"file": ("case.html", PDF, "application/pdf")},
        headers=world.agency.headers,
    )
    assert named.status_code == 415
    assert named.json()["code"] == "blocked_file_extension"
    plan = s3_client.post(
        f"/v1/requests/{request_id}/uploads",
        json={
            "filename": "notes.txt",
            "size": len(page),
            "sha256": hashlib.sha256(page).hexdigest(),
        },
        headers=world.agency.headers,
    ).json()
    sent = httpx.put(plan["parts"][0]["url"], content=page)
    done = s3_client.post(
        plan["complete_url"],
        json={"parts": [{"part_number": 1, "etag": sent.headers["etag"]}]},
        headers=world.agency.headers,
    )
    assert done.status_code == 415, done.text
    assert done.json()["code"] == "active_content"
    assert seaweed_client.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    stored = s3_client.post(
        f"/v1/requests/{request_id}/documents",
        files={"file": ("scan.pdf", PDF, "application/pdf")},
        headers=world.agency.headers,
    )
    streamed = s3_client.get(
        f"/v1/documents/{stored.json()['id']}/content", headers=world.lead.headers
    )
    assert streamed.headers["content-security-policy"] == "sandbox"
    assert streamed.headers["x-content-type-options"] == "nosniff"
    assert streamed.headers["content-disposition"].startswith("attachment;")


def _keys(seaweed_client: Any, bucket: str) -> set[str]:
    listing = seaweed_client.list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


def test_a_streamed_upload_whose_commit_fails_leaves_no_object_in_the_store(
    s3_client: TestClient, s3_app: FastAPI, world: World, seaweed_client: Any, db: Reader
) -> None:
    request_id = _request(s3_app, world)
    bucket = s3_app.state.jtai.settings.s3_bucket
    data = PDF + b"D" * (6 * 1024 * 1024)  # a multipart object in the store
    with commits_of_documents_fail(s3_app.state.jtai.session_factory) as refused:
        response = s3_client.post(
            f"/v1/requests/{request_id}/documents",
            files={"file": ("scan.pdf", data, "application/pdf")},
            headers=world.agency.headers,
        )
    assert refused == ["document"]  # stored and flushed, then the commit failed
    assert response.status_code == 500
    assert db.all(select(Document)) == []
    assert _keys(seaweed_client, bucket) == set()
    kept = s3_client.post(
        f"/v1/requests/{request_id}/documents",
        files={"file": ("scan.pdf", data, "application/pdf")},
        headers=world.agency.headers,
    )
    assert kept.status_code == 201
    assert len(_keys(seaweed_client, bucket)) == 1
