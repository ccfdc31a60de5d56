"""Hostile list bodies through the API: refused with the right status, service still alive."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from app.core.config import Settings
from app.main import create_app
from tests.factories import World
from tests.list_rows import cin_row, push_json

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _put(client: TestClient, world: World, content: bytes, media_type: str) -> Any:
    return client.put(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        content=content,
        headers={**world.agency.headers, "Content-Type": media_type},
    )


def _bomb() -> bytes:
    workbook = Workbook()
    workbook.active.append(["Child Unique ID"])  # type: ignore[union-attr]
    plain = io.BytesIO()
    workbook.save(plain)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        target.writestr("xl/media/zeros.bin", bytes(200 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.commits
def test_oversize_list_is_413_while_streaming_and_the_service_lives(
    settings: Settings, world: World
) -> None:
    small = create_app(settings.model_copy(update={"max_list_bytes": 10_000}))
    body = ("Child Unique ID\n" + "C1\n" * 20_000).encode()
    with TestClient(small) as client:
        response = client.put(
            f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
            content=iter([body[i : i + 4096] for i in range(0, len(body), 4096)]),
            headers={**world.agency.headers, "Content-Type": "text/csv"},
        )
        assert response.status_code == 413
        assert client.get("/healthz").status_code == 200
    small.state.jtai.engine.dispose()


def test_zip_bomb_is_413(client: TestClient, world: World) -> None:
    response = _put(client, world, _bomb(), XLSX)
    assert response.status_code == 413
    assert response.json()["code"] == "zip_bomb"
    assert push_json(client, world, "children-in-need", [cin_row("C1")]).status_code == 201


def test_entity_tricks_and_broken_files_are_422(client: TestClient, world: World) -> None:
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr(
            "[Content_Types].xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'
        )
    assert _put(client, world, evil.getvalue(), XLSX).status_code == 422
    assert _put(client, world, b"{not json", "application/json").status_code == 422


def test_a_huge_cell_is_named(client: TestClient, world: World) -> None:
    row = cin_row("C1", allocated_team="x" * 40_000)
    response = push_json(client, world, "children-in-need", [row])
    assert response.status_code == 422
    assert any(p["code"] == "cell_too_long" for p in response.json()["errors"])


def test_a_child_id_over_two_lines_is_named(client: TestClient, world: World) -> None:
    # A quoted CSV cell may hold a line break; a child's ID may not (it names the child in
    # URLs and in the stored lists' child index), nor any other control character.
    body = b'Child Unique ID\n"C1\nC2"\nC3\x07\n'
    response = _put(client, world, body, "text/csv")
    assert response.status_code == 422
    named = [(p["row"], p["code"]) for p in response.json()["errors"] if p["field"] == "child_id"]
    assert (2, "pattern_mismatch") in named
    assert (3, "pattern_mismatch") in named
    assert "line" in next(
        p["message"] for p in response.json()["errors"] if p["code"] == "pattern_mismatch"
    )
