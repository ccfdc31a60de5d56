"""Idempotency-Key on POSTs: replays, conflicts, and nothing done twice."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth.roles import Role
from app.documents.models import Document
from app.idempotency.models import IdempotencyRecord
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation
from tests.conftest import Reader
from tests.factories import PDF, Factory

LONDON = ZoneInfo("Europe/London")


def test_same_key_same_body_replays_the_first_answer(
    client: TestClient, factory: Factory, db: Reader
) -> None:
    world = factory.world()
    headers = {**world.operator.headers, "Idempotency-Key": "org-1"}
    body = {"name": "Police", "kind": "police"}
    first = client.post("/v1/organisations", json=body, headers=headers)
    second = client.post("/v1/organisations", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert len(db.all(select(Organisation).where(Organisation.name == "Police"))) == 1


def test_same_key_other_body_is_422(client: TestClient, factory: Factory) -> None:
    world = factory.world()
    headers = {**world.operator.headers, "Idempotency-Key": "org-2"}
    client.post("/v1/organisations", json={"name": "A", "kind": "police"}, headers=headers)
    other = client.post("/v1/organisations", json={"name": "B", "kind": "police"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_keys_are_per_client(client: TestClient, factory: Factory, db: Reader) -> None:
    world = factory.world()
    second_operator = factory.actor(OrganisationKind.PLATFORM, [Role.OPERATOR])
    # Two bodies (one organisation per name): were keys shared, the second would be 422.
    for number, actor in enumerate((world.operator, second_operator)):
        body = {"name": f"Shared key {number}", "kind": "health"}
        response = client.post(
            "/v1/organisations", json=body, headers={**actor.headers, "Idempotency-Key": "same"}
        )
        assert response.status_code == 201, response.text
    named = db.all(select(Organisation).where(Organisation.name.startswith("Shared key")))
    assert len(named) == 2


def test_uploads_are_not_stored_twice(client: TestClient, factory: Factory, db: Reader) -> None:
    world = factory.world("mental-health", datetime(2030, 3, 4, 9, 0, tzinfo=LONDON))
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    headers = {**world.agency.headers, "Idempotency-Key": "upload-1"}
    files = {"file": ("plan.pdf", PDF, "application/pdf")}
    first = client.post(f"/v1/requests/{request_id}/documents", files=files, headers=headers)
    second = client.post(f"/v1/requests/{request_id}/documents", files=files, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert len(db.all(select(Document))) == 1


@pytest.mark.commits
def test_a_concurrent_duplicate_is_409(client: TestClient, factory: Factory) -> None:
    world = factory.world()
    headers = {**world.operator.headers, "Idempotency-Key": "slow"}
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        barrier.wait()
        response = client.post(
            "/v1/organisations", json={"name": "Race", "kind": "police"}, headers=headers
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One creates; the others either replay it (after) or are told it is running (during).
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}


def test_bad_keys_are_400(client: TestClient, factory: Factory) -> None:
    world = factory.world()
    response = client.post(
        "/v1/organisations",
        json={"name": "X", "kind": "police"},
        headers={**world.operator.headers, "Idempotency-Key": "has spaces"},
    )
    assert response.status_code == 400


# Streamed uploads: the replay decision follows the bytes and the form, not the length.


def _form(
    content: bytes, boundary: str, filename: str = "plan.pdf", after: dict[str, str] | None = None
) -> bytes:
    """A multipart body built by hand, so the boundary and the field order are the test's."""
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + content
        + b"\r\n"
    ]
    for name, value in (after or {}).items():
        heading = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{heading}{value}\r\n".encode())
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def _post_form(
    client: TestClient, request_id: object, headers: dict[str, str], body: bytes, boundary: str
) -> Any:
    return client.post(
        f"/v1/requests/{request_id}/documents",
        content=body,
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


def _chunked(body: bytes, size: int = 1000) -> Iterator[bytes]:
    # A generator body goes out chunked: no Content-Length for the server to go by.
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _stored_objects(app: FastAPI, inspection_id: object) -> list[Path]:
    folder = app.state.jtai.settings.resolved_storage_dir / "inspections" / str(inspection_id)
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


@pytest.fixture
def agency_request(factory: Factory) -> tuple[Any, Any]:
    world = factory.world("mental-health", datetime(2030, 3, 4, 9, 0, tzinfo=LONDON))
    return world, factory.document_request(world.inspection_id, world.agency.organisation_id)


def test_another_file_of_the_same_length_under_the_same_key_is_422_and_not_stored(
    client: TestClient, app: FastAPI, agency_request: tuple[Any, Any], db: Reader
) -> None:
    world, request_id = agency_request
    headers = {**world.agency.headers, "Idempotency-Key": "same-length"}
    first_bytes, other_bytes = PDF + b"% AAAA\n", PDF + b"% BBBB\n"
    first = client.post(
        f"/v1/requests/{request_id}/documents",
        files={"file": ("plan.pdf", first_bytes, "application/pdf")},
        headers=headers,
    )
    other = client.post(
        f"/v1/requests/{request_id}/documents",
        files={"file": ("plan.pdf", other_bytes, "application/pdf")},
        headers=headers,
    )
    assert first.status_code == 201
    assert other.status_code == 422, other.text
    assert other.json()["code"] == "idempotency_key_reused"
    assert "idempotent-replayed" not in other.headers
    [document] = db.all(select(Document))
    assert document.sha256 == hashlib.sha256(first_bytes).hexdigest()
    assert len(_stored_objects(app, world.inspection_id)) == 1


def test_chunked_uploads_are_told_apart_by_their_bytes(
    client: TestClient, agency_request: tuple[Any, Any], db: Reader
) -> None:
    world, request_id = agency_request
    headers = {**world.agency.headers, "Idempotency-Key": "chunked"}
    content = PDF + b"%" + b"x" * 5000 + b"\n"
    first = _post_form(client, request_id, headers, _chunked(_form(content, "b1")), "b1")  # type: ignore[arg-type]
    changed = content.replace(b"xxxx", b"yyyy", 1)
    other = _post_form(client, request_id, headers, _chunked(_form(changed, "b2")), "b2")  # type: ignore[arg-type]
    again = _post_form(client, request_id, headers, _chunked(_form(content, "b3"), 7), "b3")  # type: ignore[arg-type]
    assert first.status_code == 201, first.text
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    # The same file under a new boundary and other chunk sizes is the same request.
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len(db.all(select(Document))) == 1


def test_a_file_name_or_a_field_after_the_file_is_part_of_the_request(
    client: TestClient, agency_request: tuple[Any, Any], db: Reader
) -> None:
    world, request_id = agency_request
    headers = {**world.agency.headers, "Idempotency-Key": "fields"}
    form = _form(PDF, "one", after={"note": "first"})
    first = _post_form(client, request_id, headers, form, "one")
    renamed = _post_form(client, request_id, headers, _form(PDF, "two", "other.pdf"), "two")
    other_note = _post_form(
        client, request_id, headers, _form(PDF, "three", after={"note": "second"}), "three"
    )
    same = _post_form(
        client, request_id, headers, _form(PDF, "four", after={"note": "first"}), "four"
    )
    assert first.status_code == 201, first.text
    assert renamed.status_code == other_note.status_code == 422
    assert same.status_code == 201
    assert same.headers["idempotent-replayed"] == "true"
    assert len(db.all(select(Document))) == 1


def test_a_refusal_before_the_body_was_read_is_not_kept(
    app: FastAPI, agency_request: tuple[Any, Any], db: Reader
) -> None:
    """Nothing was done with the first body, so a retry with another file simply runs.

    Sent through httpx's ASGI transport, which (unlike the test client) hands the app the
    body chunk by chunk, as a server does: the app refuses the file after its first bytes.
    """
    world, request_id = agency_request
    headers = {**world.agency.headers, "Idempotency-Key": "refused-early"}
    refused = _form(b"MZ" + b"\x00" * 200_000, "r1", "tool.bin")

    async def send(body: bytes, boundary: str) -> httpx.Response:
        async def chunks() -> AsyncIterator[bytes]:
            for chunk in _chunked(body, 16_384):
                yield chunk

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://jtai") as client:
            return await client.post(
                f"/v1/requests/{request_id}/documents",
                content=chunks(),
                headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            )

    first = anyio.run(send, refused, "r1")
    retry = anyio.run(send, _form(PDF, "r2"), "r2")
    assert first.status_code == 415
    assert retry.status_code == 201, retry.text
    assert "idempotent-replayed" not in retry.headers
    assert len(db.all(select(Document))) == 1


def test_a_client_that_hangs_up_leaves_no_key_in_progress(
    app: FastAPI, agency_request: tuple[Any, Any], db: Reader
) -> None:
    """The request is cancelled mid-body; the key must not then refuse the retry for minutes."""
    world, request_id = agency_request
    body = _form(PDF + b"%" + b"x" * 100_000 + b"\n", "gone")
    headers = {
        **world.agency.headers,
        "Idempotency-Key": "hung-up",
        "Content-Type": "multipart/form-data; boundary=gone",
    }
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": ("jtai", 80),
        "client": ("127.0.0.1", 1234),
        "path": f"/v1/requests/{request_id}/documents",
        "raw_path": f"/v1/requests/{request_id}/documents".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
    }

    async def hang_up() -> None:
        with anyio.CancelScope() as request_scope:
            sent = False

            async def receive() -> dict[str, Any]:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body[:20_000], "more_body": True}
                request_scope.cancel()  # the connection is gone; the server cancels the app
                await anyio.sleep_forever()
                raise AssertionError("unreachable")

            async def send(message: dict[str, Any]) -> None:
                pass

            await app(scope, receive, send)

    anyio.run(hang_up)
    assert db.all(select(IdempotencyRecord)) == []
    assert db.all(select(Document)) == []
