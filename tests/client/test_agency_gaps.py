"""What an agency met with `jtai client`: commands it needed curl for (template, requests,
children), reports that hid the value at fault or an empty sheet, Ctrl-C leaving it guessing,
UUIDs folded in tables, unmatched files without a reason, and downloads over existing files."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.documents.models import Document
from app.themes.registry import builtin_themes
from jtai_client.commands import client_app
from tests.child_lists.helpers import grid, to_xlsx
from tests.client.helpers import Cli, wired
from tests.conftest import Reader
from tests.factories import PDF, Factory, World
from tests.list_rows import cin_row

NARROW = {"COLUMNS": "120"}  # a terminal as agencies have them; tables must still hold UUIDs
TRACKED = ["C1001", "C1002", "C1003"]


def _csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _case_files(client: TestClient, world: World) -> dict[str, str]:
    answer = client.get(
        f"/v1/inspections/{world.inspection_id}/requests", headers=world.agency.headers
    ).json()
    return {r["child_id"]: r["id"] for r in answer if r["kind"] == "case_file"}


def test_help_lists_the_new_commands() -> None:
    result = CliRunner().invoke(client_app, ["--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    for command in ("template", "requests", "children", "push-list", "upload", "download"):
        assert re.search(rf"│ {command}\s", result.output), command


def test_template_is_saved_and_never_over_a_file(cli: Cli, world: World, tmp_path: Path) -> None:
    target = tmp_path / "cin.xlsx"
    args = ["template", str(world.inspection_id), "children-in-need", "-o", str(target)]
    saved = cli.run(*args, actor=world.agency)
    assert saved.exit_code == 0, saved.output
    assert target.read_bytes()[:2] == b"PK"  # a workbook (a zip)
    target.write_bytes(b"my own work")
    refused = cli.run(*args, actor=world.agency)
    assert refused.exit_code == 2
    assert "exists already" in refused.output
    assert "--overwrite" in refused.output
    assert target.read_bytes() == b"my own work"
    replaced = cli.run(*args, "--overwrite", actor=world.agency)
    assert replaced.exit_code == 0, replaced.output
    assert target.read_bytes()[:2] == b"PK"


def test_template_into_a_folder_is_named_after_the_list(
    cli: Cli, world: World, tmp_path: Path
) -> None:
    args = ["template", str(world.inspection_id), "children-in-need", "-o", str(tmp_path)]
    assert cli.run(*args, actor=world.agency).exit_code == 0
    assert (tmp_path / "children-in-need.xlsx").read_bytes()[:2] == b"PK"
    unknown = cli.run("template", str(world.inspection_id), "no-such-list", actor=world.agency)
    assert unknown.exit_code == 1
    assert "404" in unknown.output


def test_requests_lists_what_is_asked_of_me_with_whole_ids(
    cli: Cli, client: TestClient, world: World, factory: Factory
) -> None:
    factory.selection(world.inspection_id, "tracked", TRACKED)
    result = cli.run("requests", str(world.inspection_id), actor=world.agency, env=NARROW)
    assert result.exit_code == 0, result.output
    for child, request_id in _case_files(client, world).items():
        assert request_id in result.output, child  # whole, on one line
        assert child in result.output
    assert "chronology" in result.output  # what the case file still owes
    other = cli.run("requests", str(world.inspection_id), actor=world.other_area_agency)
    assert other.exit_code == 1
    assert "404" in other.output


def test_children_are_the_tracked_ones_with_my_case_file_requests(
    cli: Cli, client: TestClient, world: World, factory: Factory
) -> None:
    before = cli.run("children", str(world.inspection_id), actor=world.agency)
    assert before.exit_code == 0, before.output
    assert "No children are tracked yet." in before.output
    factory.selection(world.inspection_id, "tracked", TRACKED)
    result = cli.run("children", str(world.inspection_id), actor=world.agency, env=NARROW)
    assert result.exit_code == 0, result.output
    assert "3 tracked children" in result.output
    requests = _case_files(client, world)
    for child in TRACKED:
        line = next(line for line in result.output.splitlines() if child in line)
        assert requests[child] in line  # the child's request, whole, on the child's line
    # An inspector sees the children; no agency's request passes for theirs.
    seen = cli.run("children", str(world.inspection_id), actor=world.inspector, env=NARROW)
    assert seen.exit_code == 0, seen.output
    assert "3 tracked children" in seen.output
    assert not any(request_id in seen.output for request_id in requests.values())


def test_the_report_shows_the_value_at_fault(cli: Cli, world: World, tmp_path: Path) -> None:
    rows = [cin_row("C1"), cin_row("C2", date_of_birth="31/02/2015")]
    data = _csv(tmp_path / "cin.csv", rows)
    result = cli.run(
        "push-list", str(world.inspection_id), "children-in-need", str(data), actor=world.agency
    )
    assert result.exit_code == 1
    header = next(line for line in result.output.splitlines() if "severity" in line)
    assert "value" in header
    assert "31/02/2015" in result.output


def test_an_empty_workbook_warns_naming_the_sheet_read(
    cli: Cli, world: World, tmp_path: Path
) -> None:
    spec = builtin_themes().get("mental-health").get_list("children-in-need")
    assert spec is not None
    headings, _ = grid(spec, [])
    data = tmp_path / "cin.xlsx"
    data.write_bytes(to_xlsx(headings, [], sheet="Children"))
    result = cli.run(
        "push-list",
        str(world.inspection_id),
        "children-in-need",
        str(data),
        "--dry-run",
        actor=world.agency,
    )
    assert result.exit_code == 0, result.output
    assert "no rows found on the sheet 'Children' of cin.xlsx" in result.output


def _interrupt_on(path_part: str, after: int) -> Any:
    """A fault: Ctrl-C arriving as the ``after``-th request to ``path_part`` is sent."""
    seen: list[str] = []

    def fault(request: httpx.Request) -> httpx.Response | None:
        if path_part in request.url.path and request.method != "GET":
            seen.append(request.url.path)
            if len(seen) == after:
                raise KeyboardInterrupt
        return None

    return fault


@pytest.mark.commits
def test_ctrl_c_during_upload_says_what_was_kept_and_how_to_resume(
    cli: Cli, client: TestClient, world: World, factory: Factory, tmp_path: Path, db: Reader
) -> None:
    factory.selection(world.inspection_id, "tracked", TRACKED)
    folder = tmp_path / "case-files"
    folder.mkdir()
    for child in TRACKED:
        (folder / f"{child}_plan.pdf").write_bytes(PDF + child.encode())
    http, _ = wired(client, _interrupt_on("/documents", after=2))
    args = ["upload", str(world.inspection_id), str(folder)]
    stopped = cli.run(*args, actor=world.agency, http=http, env=NARROW)
    assert stopped.exit_code == 130, stopped.output
    assert "interrupted: 1 of 3 files were uploaded before it and are kept" in stopped.output
    assert "Run the same command again to resume" in stopped.output
    assert f"jtai client upload {world.inspection_id} {folder}" in stopped.output
    assert "Traceback" not in stopped.output
    (kept,) = db.all(select(Document))
    assert str(kept.id) in stopped.output  # whole, in the table at 120 columns
    resumed = cli.run(*args, "--no-progress", actor=world.agency, env=NARROW)
    assert resumed.exit_code == 0, resumed.output
    assert len(db.all(select(Document))) == 3  # the kept one was not sent twice
    for document in db.all(select(Document)):
        assert str(document.id) in resumed.output


def test_ctrl_c_during_a_push_says_whether_it_is_safe_to_push_again(
    cli: Cli, client: TestClient, world: World, tmp_path: Path
) -> None:
    data = _csv(tmp_path / "cin.csv", [cin_row("C1")])
    http, _ = wired(client, _interrupt_on("/lists/", after=1))
    result = cli.run(
        "push-list",
        str(world.inspection_id),
        "children-in-need",
        str(data),
        actor=world.agency,
        http=http,
    )
    assert result.exit_code == 130
    assert "may or may not have been stored" in result.output
    assert "running the same command again is safe" in result.output


def test_an_unmatched_file_names_the_child_id_read_and_the_manifest(
    cli: Cli, world: World, factory: Factory, tmp_path: Path
) -> None:
    factory.selection(world.inspection_id, "tracked", TRACKED)
    folder = tmp_path / "case-files"
    folder.mkdir()
    (folder / "X999_plan.pdf").write_bytes(PDF)
    (folder / "_notes.pdf").write_bytes(PDF)
    result = cli.run(
        "upload", str(world.inspection_id), str(folder), "--no-progress", actor=world.agency
    )
    assert result.exit_code == 1
    assert "failed: X999_plan.pdf: child ID 'X999' read from the name matches none" in result.output
    assert "failed: _notes.pdf: no child ID at the start of the name" in result.output
    assert result.output.count("--manifest CSV (file,request_id[,document_kind])") == 2


def test_download_refuses_to_overwrite_unless_told(
    cli: Cli, world: World, factory: Factory, tmp_path: Path
) -> None:
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    document_id = str(factory.document(world.agency, request_id))
    target = tmp_path / "report.pdf"
    target.write_bytes(b"the agency's own file")
    refused = cli.run("download", document_id, "-o", str(tmp_path), actor=world.inspector)
    assert refused.exit_code == 2
    assert "exists already: nothing was downloaded" in refused.output
    assert target.read_bytes() == b"the agency's own file"
    assert not list(tmp_path.glob("*.part"))  # nothing fetched, so no part file left
    replaced = cli.run(
        "download", document_id, "-o", str(tmp_path), "--overwrite", actor=world.inspector
    )
    assert replaced.exit_code == 0, replaced.output
    assert target.read_bytes() == PDF
