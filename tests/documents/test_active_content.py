"""Files that reach inspectors: nothing that runs when opened, names that show what they are."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.database import session_scope
from app.documents.models import Document, Upload
from tests.conftest import Reader
from tests.factories import PDF, Factory, World

HTML = b"<html><body><script>fetch('/v1/me')</script></body></html>\n"


@pytest.fixture
def request_id(factory: Factory, world: World) -> str:
    return str(factory.document_request(world.inspection_id, world.agency.organisation_id))


def _multipart(filename: bytes, content: bytes, boundary: str = "b0undary") -> bytes:
    """Built by hand: clients escape control characters in names, an attacker need not."""
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + filename
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )


def _send(client: TestClient, world: World, request_id: str, name: str, content: bytes) -> Any:
    return client.post(
        f"/v1/requests/{request_id}/documents",
        content=_multipart(name.encode(), content),
        headers={**world.agency.headers, "Content-Type": "multipart/form-data; boundary=b0undary"},
    )


def _objects(app: FastAPI, world: World) -> list[Path]:
    folder = app.state.jtai.settings.resolved_storage_dir / "inspections" / str(world.inspection_id)
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


@pytest.mark.parametrize(
    ("name", "content", "extension"),
    [
        ("invoice.hta", b"<script>alert(1)</script>", ".hta"),
        ("notes.bat", b"@echo off\r\ndel /q *\r\n", ".bat"),
        ("photo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', ".svg"),
        ("case.html", PDF + HTML, ".html"),  # a PDF by its bytes, a web page by its name
        ("report.pdf.exe", PDF, ".exe"),
        ("macro.XLSM", b"PK\x03\x04" + b"\x00" * 100, ".xlsm"),
        ("trailing.hta. ", b"plain words", ".hta"),  # Windows drops the dot and the space
        ("hidden.h\u200bta", PDF, ".hta"),  # a zero-width space the download would drop
        ("stream.hta:Zone.Identifier", PDF, ".hta"),
    ],
)
def test_active_extensions_are_415_whatever_the_bytes(
    client: TestClient,
    app: FastAPI,
    world: World,
    request_id: str,
    db: Reader,
    name: str,
    content: bytes,
    extension: str,
) -> None:
    response = _send(client, world, request_id, name, content)
    assert response.status_code == 415, response.text
    problem = response.json()
    assert problem["code"] == "blocked_file_extension"
    assert f"'{extension}'" in problem["detail"]
    assert "rule: file extension" in problem["detail"]
    assert problem["errors"][0]["value"] == extension
    assert problem["errors"][0]["field"] == "file.filename"
    assert db.all(select(Document)) == []
    assert _objects(app, world) == []


@pytest.mark.parametrize(
    ("content", "matched"),
    [
        (HTML, "<html"),
        (b"\xef\xbb\xbf\r\n  <!DOCTYPE html>\n<p>hi</p>", "<!doctype"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "<svg"),
        (b"<SCRIPT>alert(1)</SCRIPT>", "<script"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "<svg"),
        (b"<!-- a comment first -->\n<b>bold</b>", "<!--"),
    ],
)
def test_text_that_starts_like_a_web_page_is_415(
    client: TestClient, world: World, request_id: str, db: Reader, content: bytes, matched: str
) -> None:
    response = _send(client, world, request_id, "notes.txt", content)
    assert response.status_code == 415, response.text
    assert response.json()["code"] == "active_content"
    assert f"'{matched}'" in response.json()["detail"]
    assert "rule: file content" in response.json()["detail"]
    assert db.all(select(Document)) == []


@pytest.mark.parametrize(
    "content",
    [b"Meeting notes: a < b, and <abc> is not a tag.\n", b"From: a@example.org\n\nHello\n"],
)
def test_ordinary_text_is_still_taken(
    client: TestClient, world: World, request_id: str, content: bytes
) -> None:
    response = _send(client, world, request_id, "notes.txt", content)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "name",
    [b"nul\x00byte.pdf", b"line\nfeed.pdf", b"bell\x07.pdf", "photo\u202egpj.pdf".encode()],
)
def test_control_characters_in_a_file_name_are_422_naming_the_field(
    client: TestClient, app: FastAPI, world: World, request_id: str, db: Reader, name: bytes
) -> None:
    response = client.post(
        f"/v1/requests/{request_id}/documents",
        content=_multipart(name, PDF),
        headers={**world.agency.headers, "Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_filename"
    assert response.json()["errors"][0]["field"] == "file.filename"
    assert db.all(select(Document)) == []
    assert _objects(app, world) == []


def test_a_bare_cr_in_a_part_header_is_422_not_a_server_error(
    client: TestClient, world: World, request_id: str, db: Reader
) -> None:
    """A CR cannot stand in a header; the form is malformed, and that is the client's fault."""
    response = client.post(
        f"/v1/requests/{request_id}/documents",
        content=_multipart(b"carriage\rreturn.pdf", PDF),
        headers={**world.agency.headers, "Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "broken_multipart"
    assert db.all(select(Document)) == []


def _start(client: TestClient, world: World, request_id: str, filename: str, data: bytes) -> Any:
    return client.post(
        f"/v1/requests/{request_id}/uploads",
        json={"filename": filename, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        headers=world.agency.headers,
    )


@pytest.mark.parametrize(
    ("filename", "status", "code"),
    [
        ("invoice.hta", 415, "blocked_file_extension"),
        ("photo.svg", 415, "blocked_file_extension"),
        ("nul\x00byte.pdf", 422, "validation_error"),  # the edge's NUL guard, before the route
        ("line\nbreak.pdf", 422, "invalid_filename"),
    ],
)
def test_a_presigned_upload_is_refused_by_its_name_before_anything_starts(
    client: TestClient,
    world: World,
    request_id: str,
    db: Reader,
    filename: str,
    status: int,
    code: str,
) -> None:
    response = _start(client, world, request_id, filename, PDF)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["errors"][0]["field"] == "body.filename"
    assert db.all(select(Upload)) == []


def _send_parts_and_complete(
    client: TestClient, world: World, plan: dict[str, Any], data: bytes
) -> Any:
    [part] = plan["parts"]
    sent = client.put(part["url"], content=data, headers=world.agency.headers)
    assert sent.status_code == 200, sent.text
    return client.post(
        plan["complete_url"], json={"parts": [sent.json()]}, headers=world.agency.headers
    )


def test_a_presigned_upload_of_a_web_page_is_refused_at_completion(
    client: TestClient, app: FastAPI, world: World, request_id: str, db: Reader
) -> None:
    started = _start(client, world, request_id, "notes.txt", HTML)
    assert started.status_code == 201
    done = _send_parts_and_complete(client, world, started.json(), HTML)
    assert done.status_code == 415, done.text
    assert done.json()["code"] == "active_content"
    assert done.json()["errors"][0]["field"] == "filename"
    assert db.all(select(Document)) == []
    assert _objects(app, world) == []


def test_an_upload_named_before_the_rule_is_refused_at_completion(
    client: TestClient, factory: Factory, world: World, request_id: str, db: Reader
) -> None:
    started = _start(client, world, request_id, "case.pdf", PDF)
    assert started.status_code == 201
    with session_scope(factory.state.session_factory) as session:
        upload = session.get(Upload, uuid.UUID(started.json()["id"]))
        assert upload is not None
        upload.filename = "case.html"  # as an upload started before names were checked
    done = _send_parts_and_complete(client, world, started.json(), PDF)
    assert done.status_code == 415, done.text
    assert done.json()["code"] == "blocked_file_extension"
    assert db.all(select(Document)) == []


def test_downloads_are_attachments_never_rendered(
    client: TestClient, world: World, request_id: str
) -> None:
    uploaded = _send(client, world, request_id, "Notes for the lead — Ünïcode.txt", b"hello\n")
    assert uploaded.status_code == 201, uploaded.text
    content = client.get(
        f"/v1/documents/{uploaded.json()['id']}/content", headers=world.lead.headers
    )
    assert content.status_code == 200
    disposition = content.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''Notes%20for%20the%20lead%20%E2%80%94%20%C3%9Cn%C3%AFcode.txt" in (
        disposition
    )
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-security-policy"] == "sandbox"
    assert content.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("name", "content", "shown"),
    [
        ("connect.rdp", b"full address:s:10.0.0.1\r\n", ".rdp"),  # text that Windows runs
        ("query.iqy", b"WEB\r\n1\r\nhttps://example.org/\r\n", ".iqy"),
        ("sheet.slk", b"ID;P\r\nC;Y1;X1;EEXEC()\r\n", ".slk"),
        ("notebook.one", PDF, ".one"),  # a PDF by its bytes, opened by another program
        ("scan.website", PDF, ".website"),
        ("notes", b"plain words", "(none)"),
    ],
)
def test_a_name_must_fit_what_the_bytes_are(
    client: TestClient, world: World, request_id: str, name: str, content: bytes, shown: str
) -> None:
    response = _send(client, world, request_id, name, content)
    assert response.status_code == 415, response.text
    problem = response.json()
    assert problem["code"] == "extension_mismatch"
    assert f"'{shown}'" in problem["detail"]
    assert "rule: the extension must fit the content" in problem["detail"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("scan.pdf", PDF),
        ("SCAN.PDF", PDF),
        ("letter.txt", b"Dear colleague,\r\n"),
        ("mail.eml", b"From: a@example.org\r\n\r\nhello\r\n"),
        ("saved-mail.txt", b"From: a@example.org\r\n\r\nhello\r\n"),
        ("data.csv", b"a,b\r\n1,2\r\n"),
    ],
)
def test_names_that_fit_are_taken(
    client: TestClient, world: World, request_id: str, name: str, content: bytes
) -> None:
    assert _send(client, world, request_id, name, content).status_code == 201
