"""What the service keeps on disk (database, WAL, signing key, objects) only its user can read."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.auth.keys import generate_private_pem, load_signing_key
from app.core.config import Environment, Settings
from app.core.database import make_engine
from app.core.migrations import upgrade_to_head
from app.main import create_app
from tests.factories import PDF, Factory
from tests.list_rows import cin_row, push_json

LONDON = ZoneInfo("Europe/London")


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _modes_under(root: Path) -> dict[str, int]:
    found = {".": _mode(root)}
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            path = Path(folder) / name
            found[str(path.relative_to(root))] = _mode(path)
    return found


def _not_private(modes: dict[str, int], root: Path) -> dict[str, str]:
    return {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (root / name).is_dir() else 0o600)
    }


def _push_and_upload(client: TestClient, factory: Factory) -> None:
    """A list push, a streamed upload, and a presigned-style upload left open mid-way."""
    world = factory.world("mental-health", datetime(2030, 3, 4, 9, 0, tzinfo=LONDON))
    pushed = push_json(client, world, "children-in-need", [cin_row("C1")])
    assert pushed.status_code == 201, pushed.json()
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    uploaded = client.post(
        f"/v1/requests/{request_id}/documents",
        files={"file": ("notes.pdf", PDF, "application/pdf")},
        headers=world.agency.headers,
    )
    assert uploaded.status_code == 201, uploaded.json()
    started = client.post(
        f"/v1/requests/{request_id}/uploads",
        json={"filename": "scan.pdf", "size": len(PDF), "sha256": hashlib.sha256(PDF).hexdigest()},
        headers=world.agency.headers,
    )
    assert started.status_code == 201, started.json()
    part = client.put(started.json()["parts"][0]["url"], content=PDF, headers=world.agency.headers)
    assert part.status_code == 200, part.json()


@pytest.mark.commits
def test_everything_under_var_is_private_after_a_push_and_uploads(
    tmp_path: Path, db_kind: str, settings: Settings, engine: Engine
) -> None:
    var_dir = tmp_path / "deployment" / "var"
    with umask(0o022):
        # On SQLite the database lives in var/ (the default); PostgreSQL keeps it elsewhere.
        database_url = "" if db_kind == "sqlite" else settings.database_url
        private = Settings(
            environment=Environment.TEST,
            var_dir=var_dir,
            database_url=database_url,
            sweep_interval_seconds=0,
        )
        upgrade_to_head(private.resolved_database_url)
        app = create_app(private)
        try:
            with TestClient(app) as client:
                _push_and_upload(client, Factory(app))
                modes = _modes_under(var_dir)
        finally:
            app.state.jtai.engine.dispose()
    expected = {"jwt-signing-key.pem", "objects/.uploads", "objects/.tmp", "objects/inspections"}
    if db_kind == "sqlite":
        expected |= {"jtai.sqlite3", "jtai.sqlite3-wal", "jtai.sqlite3-shm"}
    assert expected <= set(modes)
    part_file = re.compile(r"objects/\.uploads/[0-9a-f]{32}/00001\.[0-9a-f]{32}")
    assert any(part_file.fullmatch(name) for name in modes)
    assert _not_private(modes, var_dir) == {}
    assert _mode(var_dir.parent) == 0o700  # made by the service too


def test_a_new_sqlite_database_and_its_wal_are_0600(tmp_path: Path) -> None:
    database = tmp_path / "new" / "jtai.sqlite3"
    with umask(0o000):
        engine = make_engine(f"sqlite:///{database}")
        try:
            with engine.begin() as connection:
                connection.execute(text("CREATE TABLE t (x INTEGER)"))
            modes = _modes_under(database.parent)
        finally:
            engine.dispose()
    assert modes == {".": 0o700, "jtai.sqlite3": 0o600, "jtai.sqlite3-wal": 0o600} | {
        "jtai.sqlite3-shm": 0o600
    }


def test_an_older_world_readable_database_is_closed_up(tmp_path: Path) -> None:
    database = tmp_path / "jtai.sqlite3"
    with umask(0o022):
        legacy = sqlite3.connect(database)
        legacy.execute("PRAGMA journal_mode=WAL")
        legacy.execute("CREATE TABLE t (x INTEGER)")
        legacy.commit()
        assert _mode(database) == 0o644
        engine = make_engine(f"sqlite:///{database}")
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT x FROM t")).all()
            for path in tmp_path.iterdir():
                assert _mode(path) == 0o600, path
        finally:
            engine.dispose()
            legacy.close()


def test_a_generated_signing_key_and_its_folder_are_private(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    with umask(0o000):
        load_signing_key(Settings(environment=Environment.TEST, var_dir=var_dir))
    assert _modes_under(var_dir) == {".": 0o700, "jwt-signing-key.pem": 0o600}


def test_an_older_world_readable_signing_key_is_closed_up(tmp_path: Path) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_text(generate_private_pem())
    key_file.chmod(0o644)
    load_signing_key(Settings(environment=Environment.TEST, signing_key_file=key_file))
    assert _mode(key_file) == 0o600
