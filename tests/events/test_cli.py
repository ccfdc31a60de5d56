"""``jtai client events``: JSON lines on stdout, resumable from a cursor file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.client.helpers import Cli, wired
from tests.events.helpers import feed
from tests.factories import Factory, World


@pytest.fixture
def cli(client: TestClient, tmp_path: Path) -> Cli:
    return Cli(client, tmp_path / "cache" / "token.json")


def _lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_prints_every_event_as_a_json_line_and_resumes_from_its_cursor(
    cli: Cli, client: TestClient, factory: Factory, world: World, tmp_path: Path
) -> None:
    cursor_file = tmp_path / "cursor"
    first = cli.run("events", "--cursor-file", str(cursor_file), actor=world.agency)
    assert first.exit_code == 0, first.output
    printed = _lines(first.stdout)
    assert [item["id"] for item in printed] == [item["id"] for item in feed(client, world.agency)]
    assert printed  # the requests opened to the council
    assert cursor_file.read_text().strip()
    factory.meeting(world.agency, world.inspection_id)
    second = cli.run("events", "--cursor-file", str(cursor_file), actor=world.agency)
    assert second.exit_code == 0, second.output
    (meeting,) = _lines(second.stdout)  # only what is new
    assert meeting["type"] == "meeting.changed"
    again = cli.run("events", "--after", "", actor=world.agency)
    assert len(_lines(again.stdout)) == len(printed) + 1


def test_follow_long_polls_from_the_last_cursor(cli: Cli, factory: Factory, world: World) -> None:
    factory.meeting(world.agency, world.inspection_id)
    http, wire = wired(cli.client)
    followed = cli.run(
        "events", "--follow", "--max-requests", "2", "--wait", "1", actor=world.agency, http=http
    )
    assert followed.exit_code == 0, followed.output
    assert _lines(followed.stdout)[-1]["type"] == "meeting.changed"
    first, second = wire.calls("GET", "/v1/events")
    assert first.url.params["wait"] == "1"
    assert "after" not in first.url.params
    # The second asks from where the first ended: the cursor of the meeting's event.
    assert second.url.params["after"] == _lines(followed.stdout)[-1]["id"][4:]


def test_a_bad_cursor_is_an_error_on_stderr_and_nothing_on_stdout(cli: Cli, world: World) -> None:
    refused = cli.run("events", "--after", "not-a-cursor", actor=world.agency)
    assert refused.exit_code == 1
    assert refused.stdout == ""
    assert "after" in refused.stderr
