"""Downloads: streamed to a temporary file, verified against the recorded SHA-256, renamed."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from tests.client.helpers import Cli, wired
from tests.factories import PDF, Factory, World


def _document(factory: Factory, world: World) -> str:
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    return str(factory.document(world.agency, request_id))


def test_a_download_is_verified_and_put_in_place(
    cli: Cli, world: World, factory: Factory, tmp_path: Path
) -> None:
    document_id = _document(factory, world)
    out = tmp_path / "out"
    out.mkdir()
    result = cli.run("download", document_id, "-o", str(out), actor=world.inspector)
    assert result.exit_code == 0, result.output
    assert "verified" in result.output
    assert (out / "report.pdf").read_bytes() == PDF
    assert [p.name for p in out.iterdir()] == ["report.pdf"]  # no temporary file left


def test_altered_bytes_are_refused_and_leave_nothing(
    cli: Cli, client: TestClient, world: World, factory: Factory, tmp_path: Path
) -> None:
    document_id = _document(factory, world)

    def tamper(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/content"):
            return httpx.Response(200, content=PDF.replace(b"1.7", b"1.4"))
        return None

    http, _ = wired(client, tamper)
    out = tmp_path / "out"
    out.mkdir()
    result = cli.run("download", document_id, "-o", str(out), actor=world.inspector, http=http)
    assert result.exit_code == 1
    assert "expected" in result.output
    assert list(out.iterdir()) == []


def test_a_503_is_retried(
    cli: Cli, client: TestClient, world: World, factory: Factory, tmp_path: Path
) -> None:
    document_id = _document(factory, world)
    failed: list[str] = []

    def busy_once(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/content") and not failed:
            failed.append(request.url.path)
            return httpx.Response(503, headers={"Retry-After": "2"}, json={"code": "busy"})
        return None

    http, wire = wired(client, busy_once)
    target = tmp_path / "copy.pdf"
    result = cli.run("download", document_id, "-o", str(target), actor=world.agency, http=http)
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == PDF
    assert len(wire.calls("GET", "/content")) == 2
    assert cli.sleeps == [2.0]  # the server's Retry-After, above the jittered backoff
    assert "503" in result.output


def test_other_agencies_get_a_clean_error(
    cli: Cli, world: World, factory: Factory, tmp_path: Path
) -> None:
    document_id = _document(factory, world)
    result = cli.run("download", document_id, "-o", str(tmp_path), actor=world.other_area_agency)
    assert result.exit_code == 1
    assert "404" in result.output
    assert cli.sleeps == []
