"""Pushing CSV and Excel lists: the validation report as a table, exit 1 when refused."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.client.helpers import Cli, wired
from tests.factories import World
from tests.list_rows import cin_row


def _csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_valid_list_is_stored_and_reported(cli: Cli, world: World, tmp_path: Path) -> None:
    data = _csv(tmp_path / "cin.csv", [cin_row("C1"), cin_row("C2")])
    url = [str(world.inspection_id), "children-in-need", str(data)]

    dry = cli.run("push-list", *url, "--dry-run", actor=world.agency)
    assert dry.exit_code == 0, dry.output
    assert "Valid (dry run): 2 rows, 0 errors" in dry.output

    stored = cli.run("push-list", *url, "--if-match", "0", actor=world.agency)
    assert stored.exit_code == 0, stored.output
    assert "Stored as version 1: 2 rows, 0 errors" in stored.output


def test_a_refused_list_prints_the_report_and_exits_1(
    cli: Cli, client: TestClient, world: World, tmp_path: Path
) -> None:
    rows = [cin_row("C1"), cin_row("C2", date_of_birth="not a date")]
    data = _csv(tmp_path / "cin.csv", rows)
    http, wire = wired(client)
    result = cli.run(
        "push-list",
        str(world.inspection_id),
        "children-in-need",
        str(data),
        actor=world.agency,
        http=http,
    )
    assert result.exit_code == 1, result.output
    assert "Validation report" in result.output
    assert "date_of_birth" in result.output
    assert "Refused, nothing stored" in result.output
    assert "invalid_date" in result.output
    # A 422 is an answer, not a failure to retry.
    assert len(wire.calls("PUT", "/lists/")) == 1
    assert cli.sleeps == []


def test_only_csv_and_xlsx_are_sent(cli: Cli, world: World, tmp_path: Path) -> None:
    data = tmp_path / "cin.json"
    data.write_text("{}")
    result = cli.run(
        "push-list", str(world.inspection_id), "children-in-need", str(data), actor=world.agency
    )
    assert result.exit_code == 2
    assert ".csv or .xlsx" in result.output
