"""A client that drops mid-upload leaves nothing behind; concurrent uploads all land intact."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.documents.models import Document
from tests.conftest import Reader
from tests.factories import PDF, Factory

BOUNDARY = "jtai-test-boundary"


def _multipart_head(filename: str) -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()


async def _drive(app: FastAPI, path: str, token: str, chunks: list[bytes]) -> list[dict[str, Any]]:
    """Call the app as a server would, then vanish: http.disconnect instead of the rest."""
    sent: list[dict[str, Any]] = []
    pending = list(chunks)

    async def receive() -> dict[str, Any]:
        if pending:
            return {"type": "http.request", "body": pending.pop(0), "more_body": True}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    # A server would log whatever the app raises and drop it: we only look at what is left.
    with contextlib.suppress(Exception):
        await app(scope, receive, send)
    return sent


def test_a_dropped_connection_leaves_no_object_and_no_row(
    app: FastAPI, client: TestClient, factory: Factory, db: Reader, settings: Any
) -> None:
    world = factory.world()
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    objects = Path(settings.resolved_storage_dir)
    before = {p for p in objects.rglob("*") if p.is_file()}
    chunks = [_multipart_head("half.pdf") + PDF, b"x" * 100_000, b"y" * 100_000]
    anyio.run(_drive, app, f"/v1/requests/{request_id}/documents", world.agency.token, chunks)
    assert db.all(select(Document)) == []
    assert {p for p in objects.rglob("*") if p.is_file()} == before


@pytest.mark.commits
def test_concurrent_uploads_all_land_with_the_right_hashes(
    client: TestClient, factory: Factory, db: Reader
) -> None:
    world = factory.world()
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    bodies = [PDF + bytes([n]) * (200_000 + n) for n in range(12)]
    results: list[Any] = []

    def upload(body: bytes) -> None:
        results.append(
            client.post(
                f"/v1/requests/{request_id}/documents",
                files={"file": ("doc.pdf", body, "application/pdf")},
                headers=world.agency.headers,
            )
        )

    threads = [threading.Thread(target=upload, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results) == [201] * len(bodies)
    stored = {d.sha256 for d in db.all(select(Document))}
    assert stored == {hashlib.sha256(body).hexdigest() for body in bodies}
