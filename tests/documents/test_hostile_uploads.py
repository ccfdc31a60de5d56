"""Uploads under attack, on the local store: parts held to their plan, access re-checked at
every step, racing completions, clients that vanish, and store ids that never leak."""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.core.database import session_scope, utcnow
from app.documents.models import Document, Upload, UploadState
from app.storage import Storage
from tests.conftest import Reader
from tests.documents.asgi import BOUNDARY, drive, multipart_head, multipart_tail
from tests.factories import PDF, Actor, Factory, World

MiB = 1024 * 1024


@pytest.fixture
def request_id(factory: Factory, world: World) -> str:
    return str(factory.document_request(world.inspection_id, world.agency.organisation_id))


@pytest.fixture
def storage(app: FastAPI) -> Storage:
    store: Storage = app.state.jtai.storage
    return store


@pytest.fixture(autouse=True)
def _no_store_uploads_left(app: FastAPI) -> Iterator[None]:
    """The local store outlives each test: uploads a test leaves open are aborted after it,
    so they never pass for another test's orphans."""
    store: Storage = app.state.jtai.storage
    before = set(store.list_open_multipart(utcnow() + timedelta(days=1)))
    yield
    for left in set(store.list_open_multipart(utcnow() + timedelta(days=1))) - before:
        store.abort_multipart(left.key, left.upload_id)


@pytest.fixture
def jtai_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of the service's loggers (they do not propagate to the root logger)."""
    service = logging.getLogger("jtai")
    service.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG, logger="jtai")
    try:
        yield caplog
    finally:
        service.removeHandler(caplog.handler)


def _plan(client: TestClient, actor: Actor, request_id: str, data: bytes) -> Any:
    response = client.post(
        f"/v1/requests/{request_id}/uploads",
        json={
            "filename": "scan.pdf",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        headers=actor.headers,
    )
    assert response.status_code == 201, response.json()
    return response.json()


def _upload_row(db: Reader, upload_id: str) -> Upload:
    (row,) = db.all(select(Upload).where(Upload.id == uuid.UUID(upload_id)))
    return row


def _open_store_uploads(storage: Storage) -> set[str]:
    return {u.upload_id for u in storage.list_open_multipart(utcnow() + timedelta(days=1))}


def _objects(settings: Any) -> set[Path]:
    return {p for p in Path(settings.resolved_storage_dir).rglob("*") if p.is_file()}


# -- parts are held to the plan --------------------------------------------------------------


def test_a_part_of_any_other_size_is_refused_and_nothing_kept(
    client: TestClient, world: World, request_id: str, db: Reader, storage: Storage
) -> None:
    data = PDF
    plan = _plan(client, world.agency, request_id, data)
    (part,) = plan["parts"]
    assert part["size"] == len(data)
    assert datetime.fromisoformat(part["expires_at"]) <= utcnow() + timedelta(minutes=15)
    send = partial(client.put, part["url"], headers=world.agency.headers)

    declared_larger = send(content=data + b"x" * (64 * 1024))
    assert declared_larger.status_code == 413
    assert declared_larger.json()["code"] == "part_too_large"
    declared_shorter = send(content=data[:-1])
    assert declared_shorter.status_code == 422
    assert declared_shorter.json()["code"] == "part_size_mismatch"
    chunked_larger = send(content=iter([data, b"x" * 1000]))  # no length: stopped as it comes
    assert chunked_larger.status_code == 413
    chunked_shorter = send(content=iter([data[:-1]]))
    assert chunked_shorter.status_code == 422
    assert chunked_shorter.json()["code"] == "part_size_mismatch"
    upload = _upload_row(db, plan["id"])
    assert storage.list_parts(upload.object_key, upload.store_upload_id) == []

    exact = send(content=data)
    assert exact.status_code == 200
    done = client.post(
        plan["complete_url"], json={"parts": [exact.json()]}, headers=world.agency.headers
    )
    assert done.status_code == 201, done.json()


def test_a_part_past_its_size_is_not_read_on(
    app: FastAPI, client: TestClient, world: World, request_id: str
) -> None:
    plan = _plan(client, world.agency, request_id, b"%PDF-1.7\n" + b"x")  # a 10-byte upload
    path = f"/v1/uploads/{plan['id']}/parts/1"
    body = [b"y" * MiB] * 64
    headers = {"authorization": f"Bearer {world.agency.token}"}

    declared = anyio.run(
        partial(drive, app, "PUT", path, headers | {"content-length": str(64 * MiB)}, body)
    )
    assert declared.status == 413
    assert declared.pulled == 0  # refused on its declared length alone

    streamed = anyio.run(partial(drive, app, "PUT", path, headers, body))
    assert streamed.status == 413
    assert streamed.pulled < 16  # what the read-ahead had buffered, not the 64 MiB


def test_the_api_part_route_expires_like_a_presigned_url(
    app: FastAPI, client: TestClient, world: World, request_id: str
) -> None:
    plan = _plan(client, world.agency, request_id, PDF)
    with session_scope(app.state.jtai.session_factory) as session:
        session.execute(
            update(Upload)
            .where(Upload.id == uuid.UUID(plan["id"]))
            .values(created_at=utcnow() - timedelta(minutes=16))
        )
    late = client.put(plan["parts"][0]["url"], content=PDF, headers=world.agency.headers)
    assert late.status_code == 409
    assert late.json()["code"] == "part_url_expired"


def test_completion_refuses_a_part_whose_size_differs_from_the_plan(
    client: TestClient, world: World, request_id: str, db: Reader, storage: Storage, settings: Any
) -> None:
    before = _objects(settings)
    plan = _plan(client, world.agency, request_id, PDF)
    upload = _upload_row(db, plan["id"])
    # Behind the API's back, as through a store that did not hold a URL to its length.
    etag = storage.put_part(upload.object_key, upload.store_upload_id, 1, [PDF + b"padding"])
    done = client.post(
        plan["complete_url"],
        json={"parts": [{"part_number": 1, "etag": etag}]},
        headers=world.agency.headers,
    )
    assert done.status_code == 422
    problem = done.json()
    assert problem["code"] == "part_size_mismatch"
    assert problem["errors"][0]["field"] == "body.parts[0]"
    assert "part 1 has" in problem["errors"][0]["message"]
    assert _upload_row(db, plan["id"]).state is UploadState.ABORTED
    assert db.all(select(Document)) == []
    assert _objects(settings) == before  # the parts went with the upload


def test_completion_lists_every_planned_part(
    client: TestClient, world: World, request_id: str
) -> None:
    plan = _plan(client, world.agency, request_id, PDF)
    sent = client.put(plan["parts"][0]["url"], content=PDF, headers=world.agency.headers).json()
    done = client.post(
        plan["complete_url"],
        json={"parts": [sent, {"part_number": 2, "etag": sent["etag"]}]},
        headers=world.agency.headers,
    )
    assert done.status_code == 422
    assert done.json()["errors"][0]["code"] == "parts_not_as_planned"


# -- access is re-checked at every step ------------------------------------------------------


def _cqc_request(client: TestClient, world: World, health: Actor) -> str:
    """A CQC request: unlike derived ones, removing its addressee does not withdraw it."""
    made = client.post(
        f"/v1/inspections/{world.inspection_id}/requests",
        json={
            "organisation_id": str(health.organisation_id),
            "title": "CAMHS records",
            "due_at": "2030-03-18T17:00:00+00:00",
        },
        headers=world.inspector.headers,
    )
    assert made.status_code == 201, made.json()
    return str(made.json()["id"])


def _remove(client: TestClient, world: World, actor: Actor) -> None:
    gone = client.delete(
        f"/v1/inspections/{world.inspection_id}/participants/{actor.organisation_id}",
        headers=world.operator.headers,
    )
    assert gone.status_code == 204, gone.text


def _close(client: TestClient, world: World, actor: Actor) -> None:
    for status in ("fieldwork", "reporting", "closed"):
        moved = client.put(
            f"/v1/inspections/{world.inspection_id}/status",
            json={"status": status},
            headers=world.lead.headers,
        )
        assert moved.status_code == 200, moved.text


@pytest.mark.parametrize(
    ("end_access", "status", "code"),
    [(_remove, 404, "not_found"), (_close, 409, "inspection_closed")],
    ids=["removed", "closed"],
)
def test_every_step_of_an_upload_rechecks_access(
    client: TestClient,
    factory: Factory,
    world: World,
    db: Reader,
    end_access: Any,
    status: int,
    code: str,
) -> None:
    health = factory.actor_in(world, "health")
    request_id = _cqc_request(client, world, health)
    to_complete = _plan(client, health, request_id, PDF)
    sent = client.put(to_complete["parts"][0]["url"], content=PDF, headers=health.headers)
    assert sent.status_code == 200
    to_send, to_abort = (_plan(client, health, request_id, PDF) for _ in range(2))

    end_access(client, world, health)

    steps = {
        "create": client.post(
            f"/v1/requests/{request_id}/uploads",
            json={"filename": "a.pdf", "size": len(PDF), "sha256": "0" * 64},
            headers=health.headers,
        ),
        "part": client.put(to_send["parts"][0]["url"], content=PDF, headers=health.headers),
        "complete": client.post(
            to_complete["complete_url"], json={"parts": [sent.json()]}, headers=health.headers
        ),
        "abort": client.delete(f"/v1/uploads/{to_abort['id']}", headers=health.headers),
        "streamed": client.post(
            f"/v1/requests/{request_id}/documents",
            files={"file": ("a.pdf", PDF, "application/pdf")},
            headers=health.headers,
        ),
    }
    assert {step: r.status_code for step, r in steps.items()} == dict.fromkeys(steps, status)
    assert {step: r.json()["code"] for step, r in steps.items()} == dict.fromkeys(steps, code)
    assert db.all(select(Document)) == []


@pytest.mark.commits
def test_access_ending_during_a_streamed_upload_keeps_nothing(
    app: FastAPI, client: TestClient, factory: Factory, world: World, db: Reader, settings: Any
) -> None:
    health = factory.actor_in(world, "health")
    request_id = _cqc_request(client, world, health)
    before = _objects(settings)

    async def remove_after_the_first_chunk(pulled: int) -> None:
        # A write by someone else while the body is on its way: it must not wait for the
        # upload (on SQLite, a transaction held across the body would hold the write lock).
        if pulled == 1:
            await anyio.to_thread.run_sync(_remove, client, world, health)

    exchange = anyio.run(
        partial(
            drive,
            app,
            "POST",
            f"/v1/requests/{request_id}/documents",
            {
                "authorization": f"Bearer {health.token}",
                "content-type": f"multipart/form-data; boundary={BOUNDARY}",
            },
            [multipart_head("late.pdf") + PDF, b"x" * 100_000, multipart_tail()],
            between=remove_after_the_first_chunk,
        )
    )
    assert exchange.status == 404, exchange.body
    assert db.all(select(Document)) == []
    assert _objects(settings) == before


# -- racing completions ----------------------------------------------------------------------


@pytest.mark.commits
def test_racing_completions_publish_one_document(
    client: TestClient, world: World, request_id: str, db: Reader, storage: Storage
) -> None:
    data = PDF + b"A" * 5000
    plan = _plan(client, world.agency, request_id, data)
    sent = client.put(plan["parts"][0]["url"], content=data, headers=world.agency.headers)
    racers = 8
    start = threading.Barrier(racers)
    results: list[Any] = []

    def complete() -> None:
        start.wait()
        results.append(
            client.post(
                plan["complete_url"], json={"parts": [sent.json()]}, headers=world.agency.headers
            )
        )

    threads = [threading.Thread(target=complete) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in results) == [201] + [409] * (racers - 1)
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"upload_closed"}
    (document,) = db.all(select(Document))
    assert storage.sha256_of(document.object_key) == (len(data), hashlib.sha256(data).hexdigest())
    upload = _upload_row(db, plan["id"])
    assert upload.state is UploadState.COMPLETED
    assert upload.store_upload_id not in _open_store_uploads(storage)


# -- clients that vanish ---------------------------------------------------------------------


def _assert_logged_as_a_disconnect(logs: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in logs.records if r.levelno >= logging.WARNING] == []
    noted = [r for r in logs.records if r.name == "jtai.documents"]
    assert [(r.levelno, r.getMessage()) for r in noted] == [(logging.INFO, "client disconnected")]
    assert noted[0].exc_info is None
    access = [r for r in logs.records if r.name == "jtai.access"]
    assert [getattr(r, "status", None) for r in access] == [499]


def test_a_client_that_drops_a_streamed_upload_is_not_a_server_error(
    app: FastAPI,
    client: TestClient,
    world: World,
    request_id: str,
    db: Reader,
    settings: Any,
    jtai_logs: pytest.LogCaptureFixture,
) -> None:
    before = _objects(settings)
    exchange = anyio.run(
        partial(
            drive,
            app,
            "POST",
            f"/v1/requests/{request_id}/documents",
            {
                "authorization": f"Bearer {world.agency.token}",
                "content-type": f"multipart/form-data; boundary={BOUNDARY}",
            },
            [multipart_head("half.pdf") + PDF, b"x" * 100_000, b"y" * 100_000],
            then_disconnect=True,
        )
    )
    assert exchange.status == 499
    _assert_logged_as_a_disconnect(jtai_logs)
    assert db.all(select(Document)) == []
    assert _objects(settings) == before


def test_a_client_that_drops_a_part_is_not_a_server_error(
    app: FastAPI,
    client: TestClient,
    world: World,
    request_id: str,
    db: Reader,
    storage: Storage,
    jtai_logs: pytest.LogCaptureFixture,
) -> None:
    data = PDF + b"z" * 300_000
    plan = _plan(client, world.agency, request_id, data)
    jtai_logs.clear()
    exchange = anyio.run(
        partial(
            drive,
            app,
            "PUT",
            f"/v1/uploads/{plan['id']}/parts/1",
            {"authorization": f"Bearer {world.agency.token}"},
            [data[:100_000], data[100_000:200_000]],
            then_disconnect=True,
        )
    )
    assert exchange.status == 499
    _assert_logged_as_a_disconnect(jtai_logs)
    # Nothing of the part is kept; the upload stays open for the part to be sent again
    # (and is aborted by the sweeper if it never is).
    upload = _upload_row(db, plan["id"])
    assert storage.list_parts(upload.object_key, upload.store_upload_id) == []
    assert upload.state is UploadState.OPEN
    again = client.put(plan["parts"][0]["url"], content=data, headers=world.agency.headers)
    assert again.status_code == 200


# -- the store's own ids stay inside ---------------------------------------------------------


def test_store_errors_never_show_the_stores_upload_id(
    client: TestClient, world: World, request_id: str, db: Reader, storage: Storage
) -> None:
    plan = _plan(client, world.agency, request_id, PDF)
    sent = client.put(plan["parts"][0]["url"], content=PDF, headers=world.agency.headers).json()
    upload = _upload_row(db, plan["id"])
    storage.abort_multipart(upload.object_key, upload.store_upload_id)  # the store lost it

    part = client.put(plan["parts"][0]["url"], content=PDF, headers=world.agency.headers)
    done = client.post(plan["complete_url"], json={"parts": [sent]}, headers=world.agency.headers)

    for response in (part, done):
        assert response.status_code == 409, response.json()
        assert response.json()["code"] == "upload_closed"
        assert upload.store_upload_id not in response.text


# -- giving up -------------------------------------------------------------------------------


def test_an_upload_can_be_aborted_once(
    client: TestClient, world: World, request_id: str, db: Reader, storage: Storage
) -> None:
    plan = _plan(client, world.agency, request_id, PDF)
    client.put(plan["parts"][0]["url"], content=PDF, headers=world.agency.headers)
    url = f"/v1/uploads/{plan['id']}"

    assert client.delete(url, headers=world.agency.headers).status_code == 204
    upload = _upload_row(db, plan["id"])
    assert upload.state is UploadState.ABORTED
    assert upload.store_upload_id not in _open_store_uploads(storage)
    again = client.delete(url, headers=world.agency.headers)
    assert again.status_code == 409
    late_part = client.put(plan["parts"][0]["url"], content=PDF, headers=world.agency.headers)
    assert late_part.status_code == 409


def test_a_retry_after_a_dropped_upload_is_not_answered_with_the_drop(
    app: FastAPI, client: TestClient, world: World, request_id: str, db: Reader
) -> None:
    """The client retries with the same Idempotency-Key: nothing was stored, so it must run."""
    body = multipart_head("retry.pdf") + PDF + b"x" * 200_000 + multipart_tail()
    headers = {
        "authorization": f"Bearer {world.agency.token}",
        "content-type": f"multipart/form-data; boundary={BOUNDARY}",
        "content-length": str(len(body)),
        "idempotency-key": "upload-retry-1",
    }
    dropped = anyio.run(
        partial(
            drive,
            app,
            "POST",
            f"/v1/requests/{request_id}/documents",
            headers,
            [body[:100_000]],
            then_disconnect=True,
        )
    )
    assert dropped.status == 499
    retried = client.post(
        f"/v1/requests/{request_id}/documents",
        content=body,
        headers={k: v for k, v in headers.items() if k != "authorization"} | world.agency.headers,
    )
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert len(db.all(select(Document))) == 1
