"""Bulk upload of a folder: matching, small and presigned paths, resume, no duplicates, retries."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import threading
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.documents.models import Document
from tests.client.helpers import Cli, wired
from tests.conftest import Reader
from tests.factories import PDF, Factory, World

pytestmark = pytest.mark.commits  # the client sends a file's parts side by side
MiB = 1024 * 1024
SMALL_LIMIT = ["--large-file-bytes", str(1 * MiB), "--no-progress"]


class SimulatedCrash(Exception):
    """The process dying mid-upload: an error the client does not handle, so it stops."""


@pytest.fixture
def folder(tmp_path: Path, world: World, factory: Factory) -> Path:
    factory.selection(world.inspection_id, "tracked", ["C1001", "C1002", "C1003"])
    root = tmp_path / "case-files"
    root.mkdir()
    (root / "C1001_plan.pdf").write_bytes(PDF)
    (root / "C1002-strategy-discussion notes.txt").write_bytes(b"Strategy meeting notes\n" * 100)
    # Over the (lowered) threshold, 9 MiB: two 8 MiB parts through the presigned flow.
    (root / "C1003_chronology scan.pdf").write_bytes(PDF + os.urandom(9 * MiB))
    return root


def _case_files(client: TestClient, world: World) -> dict[str, str]:
    answer = client.get(
        f"/v1/inspections/{world.inspection_id}/requests", headers=world.agency.headers
    ).json()
    return {r["child_id"]: r["id"] for r in answer if r["kind"] == "case_file"}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_folder_goes_to_the_childrens_requests(
    cli: Cli, client: TestClient, world: World, folder: Path, db: Reader
) -> None:
    http, wire = wired(client)
    result = cli.run(
        "upload", str(world.inspection_id), str(folder), *SMALL_LIMIT, actor=world.agency, http=http
    )
    assert result.exit_code == 0, result.output
    assert "3 of 3 files done, 0 failed" in result.output

    requests = _case_files(client, world)
    stored = {d.request_id.hex: d for d in db.all(select(Document))}
    assert len(stored) == 3
    for child, name in [
        ("C1001", "C1001_plan.pdf"),
        ("C1002", "C1002-strategy-discussion notes.txt"),
        ("C1003", "C1003_chronology scan.pdf"),
    ]:
        document = stored[requests[child].replace("-", "")]
        assert document.filename == name
        assert document.sha256 == _sha(folder / name)

    # Small files streamed in one POST; the big one in parts through the API's part URLs.
    assert len(wire.calls("POST", "/documents")) == 2
    assert len(wire.calls("POST", "/uploads")) == 2  # create, then complete
    parts = wire.calls("PUT", "/parts/")
    assert sorted(p.url.path.rsplit("/", 1)[1] for p in parts) == ["1", "2"]
    assert all(p.headers["authorization"].startswith("Bearer ") for p in parts)
    assert all(p.headers["content-length"] for p in parts)
    posts = [r for r in wire.seen if r.method == "POST" and r.url.path != "/v1/auth/token"]
    assert all(r.headers.get("idempotency-key") for r in posts)

    state = json.loads((folder / ".jtai-upload-state.json").read_text())
    assert len(state["files"]) == 3
    assert all(entry["document_id"] for entry in state["files"].values())


def test_a_rerun_uploads_nothing_again(
    cli: Cli, client: TestClient, world: World, folder: Path, db: Reader
) -> None:
    first = cli.run(
        "upload", str(world.inspection_id), str(folder), *SMALL_LIMIT, actor=world.agency
    )
    assert first.exit_code == 0, first.output
    http, wire = wired(client)
    again = cli.run(
        "upload", str(world.inspection_id), str(folder), *SMALL_LIMIT, actor=world.agency, http=http
    )
    assert again.exit_code == 0, again.output
    assert again.output.count("already uploaded") == 3
    assert len(db.all(select(Document))) == 3
    assert [
        r for r in wire.seen if r.method in ("POST", "PUT") and "/auth/" not in r.url.path
    ] == []


def test_a_rerun_without_the_state_file_finds_what_was_sent(
    cli: Cli, client: TestClient, world: World, folder: Path, db: Reader
) -> None:
    args = ["upload", str(world.inspection_id), str(folder), *SMALL_LIMIT]
    assert cli.run(*args, actor=world.agency).exit_code == 0
    (folder / ".jtai-upload-state.json").unlink()
    http, wire = wired(client)
    again = cli.run(*args, actor=world.agency, http=http)
    assert again.exit_code == 0, again.output
    assert again.output.count("already uploaded") == 3
    assert len(db.all(select(Document))) == 3
    assert wire.calls("POST", "/documents") == wire.calls("PUT", "/parts/") == []


def test_an_interrupted_upload_resumes_from_the_next_part(
    cli: Cli, client: TestClient, world: World, folder: Path, db: Reader
) -> None:
    for name in ("C1001_plan.pdf", "C1002-strategy-discussion notes.txt"):
        (folder / name).unlink()

    def crash_on_part_2(request: httpx.Request) -> httpx.Response | None:
        if request.method == "PUT" and request.url.path.endswith("/parts/2"):
            raise SimulatedCrash
        return None

    http, _ = wired(client, crash_on_part_2)
    crashed = cli.run(
        "upload", str(world.inspection_id), str(folder), *SMALL_LIMIT, actor=world.agency, http=http
    )
    assert isinstance(crashed.exception, SimulatedCrash)
    state = json.loads((folder / ".jtai-upload-state.json").read_text())
    (entry,) = state["files"].values()
    assert list(entry["etags"]) == ["1"]
    assert db.all(select(Document)) == []

    http, wire = wired(client)
    resumed = cli.run(
        "upload", str(world.inspection_id), str(folder), *SMALL_LIMIT, actor=world.agency, http=http
    )
    assert resumed.exit_code == 0, resumed.output
    assert [p.url.path.rsplit("/", 1)[1] for p in wire.calls("PUT", "/parts/")] == ["2"]
    assert wire.calls("POST", f"/requests/{entry['request_id']}/uploads") == []
    (document,) = db.all(select(Document))
    assert document.sha256 == _sha(folder / "C1003_chronology scan.pdf")


def test_parts_travel_side_by_side(
    cli: Cli, client: TestClient, world: World, folder: Path, db: Reader
) -> None:
    for name in ("C1001_plan.pdf", "C1002-strategy-discussion notes.txt"):
        (folder / name).unlink()
    # Each part waits here for the other: sent one after another, the first would time out.
    both_parts_in_flight = threading.Barrier(2, timeout=10)

    def meet(request: httpx.Request) -> httpx.Response | None:
        if request.method == "PUT" and "/parts/" in request.url.path:
            both_parts_in_flight.wait()
        return None

    http, wire = wired(client, meet)
    result = cli.run(
        "upload", str(world.inspection_id), str(folder), *SMALL_LIMIT, actor=world.agency, http=http
    )
    assert result.exit_code == 0, result.output
    assert len(wire.calls("PUT", "/parts/")) == 2
    (document,) = db.all(select(Document))
    assert document.sha256 == _sha(folder / "C1003_chronology scan.pdf")


def test_failures_are_retried_with_backoff(
    cli: Cli, client: TestClient, world: World, folder: Path, db: Reader
) -> None:
    broken: set[str] = set()

    def once_each(request: httpx.Request) -> httpx.Response | None:
        path = request.url.path
        if request.method == "POST" and path.endswith("/documents") and "503" not in broken:
            broken.add("503")
            return httpx.Response(503, json={"title": "busy", "code": "unavailable"})
        if request.method == "PUT" and path.endswith("/parts/2") and "reset" not in broken:
            broken.add("reset")
            raise httpx.ConnectError("connection reset", request=request)
        return None

    http, wire = wired(client, once_each)
    result = cli.run(
        "upload", str(world.inspection_id), str(folder), *SMALL_LIMIT, actor=world.agency, http=http
    )
    assert result.exit_code == 0, result.output
    assert broken == {"503", "reset"}
    assert len(cli.sleeps) == 2
    assert all(0 <= delay <= 30 for delay in cli.sleeps)
    assert len(wire.calls("PUT", "/parts/2")) == 2
    assert len(db.all(select(Document))) == 3


def test_errors_other_than_5xx_are_not_retried_and_fail_the_run(
    cli: Cli, client: TestClient, world: World, folder: Path, db: Reader
) -> None:
    (folder / "C1002-strategy-discussion notes.txt").write_bytes(
        b"MZ\x90\x00" + b"\x00" * 100
    )  # refused: 415
    (folder / "unmatched.pdf").write_bytes(PDF)
    http, wire = wired(client)
    result = cli.run(
        "upload", str(world.inspection_id), str(folder), *SMALL_LIMIT, actor=world.agency, http=http
    )
    assert result.exit_code == 1
    assert "unsupported_document_type" in result.output
    assert (
        "failed: unmatched.pdf: child ID 'unmatched' read from the name matches none of your "
        "case-file requests" in result.output
    )
    assert "--manifest" in result.output
    assert "2 of 4 files done, 2 failed" in result.output
    assert cli.sleeps == []
    assert len(wire.calls("POST", "/documents")) == 2  # the 415 was sent once
    assert len(db.all(select(Document))) == 2


def test_a_manifest_maps_files_to_requests(
    cli: Cli, client: TestClient, world: World, tmp_path: Path, db: Reader
) -> None:
    asked = client.get(
        f"/v1/inspections/{world.inspection_id}/requests", headers=world.agency.headers
    ).json()
    request_id = next(r["id"] for r in asked if r["kind"] == "information_item")
    root = tmp_path / "items"
    root.mkdir()
    (root / "structure chart.pdf").write_bytes(PDF)
    manifest = tmp_path / "manifest.csv"
    with manifest.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["file", "request_id"])
        writer.writerow(["structure chart.pdf", str(request_id)])
        writer.writerow(["missing.pdf", str(request_id)])
    result = cli.run(
        "upload",
        str(world.inspection_id),
        str(root),
        "--manifest",
        str(manifest),
        "--no-progress",
        actor=world.agency,
    )
    assert result.exit_code == 1  # the missing file
    assert "file not found" in result.output
    (document,) = db.all(select(Document))
    assert str(document.request_id) == request_id
    assert document.filename == "structure chart.pdf"


def test_case_files_name_their_kind_by_name_or_manifest(
    cli: Cli, client: TestClient, world: World, tmp_path: Path, factory: Factory, db: Reader
) -> None:
    """Each case file says which kind of the request it is; a name without one fails
    before anything is sent, naming the kinds the request covers."""
    factory.selection(world.inspection_id, "tracked", ["C1001"])
    request_id = _case_files(client, world)["C1001"]
    root = tmp_path / "kinds"
    root.mkdir()
    (root / "C1001_section-47 minutes.pdf").write_bytes(PDF)
    (root / "C1001_chronology.pdf").write_bytes(PDF + b"% chronology\n")
    (root / "C1001_scan.pdf").write_bytes(PDF + b"% which kind?\n")
    (root / "latest plan.pdf").write_bytes(PDF + b"% plan\n")
    manifest = tmp_path / "manifest.csv"
    with manifest.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["file", "request_id", "document_kind"])
        writer.writerow(["latest plan.pdf", request_id, "plan"])
    http, wire = wired(client)
    result = cli.run(
        "upload",
        str(world.inspection_id),
        str(root),
        "--manifest",
        str(manifest),
        *SMALL_LIMIT,
        actor=world.agency,
        http=http,
    )
    assert result.exit_code == 1, result.output
    assert "3 of 4 files done, 1 failed" in result.output
    assert "no document kind" in result.output
    kinds = {d.filename: d.document_kind for d in db.all(select(Document))}
    assert kinds == {
        "C1001_section-47 minutes.pdf": "section-47",
        "C1001_chronology.pdf": "chronology",
        "latest plan.pdf": "plan",
    }
    assert len(wire.calls("POST", "/documents")) == 3  # the file of no kind was never sent
    answers = {
        a["document_kind"]: a["status"]
        for r in client.get(
            f"/v1/inspections/{world.inspection_id}/requests", headers=world.agency.headers
        ).json()
        if r["id"] == request_id
        for a in r["answers"]
    }
    assert {k for k, status in answers.items() if status == "received"} == {
        "section-47",
        "chronology",
        "plan",
    }
