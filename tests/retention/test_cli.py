"""``jtai admin purge`` and ``purge-expired`` as the operator runs them, and the sweeper."""

from __future__ import annotations

import json
import uuid
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.core.database import session_scope
from app.jobs.runner import run_periodically
from app.retention.models import PurgeState, PurgeTombstone
from app.retention.service import purge_inspection
from app.storage import Storage
from tests.factories import Factory
from tests.retention.conftest import Filled, close, fill


def _tombstone(session_factory: sessionmaker[Session], inspection_id: uuid.UUID) -> Any:
    with session_scope(session_factory) as session:
        return session.get(PurgeTombstone, inspection_id)


def test_purge_prints_the_tombstone_and_again_the_same(
    jtai: Any, factory: Factory, filled: Filled
) -> None:
    close(factory, filled.inspection_id)
    first = jtai("admin", "purge", "--inspection", str(filled.inspection_id))
    assert first.exit_code == 0, first.output
    tombstone = json.loads(first.stdout)
    assert tombstone["state"] == "finished"
    assert tombstone["purged_by"] == "cli"
    assert tombstone["counts"] == filled.counts
    assert set(tombstone["document_sha256s"].values()) == filled.document_sha256s
    again = jtai("admin", "purge", "--inspection", str(filled.inspection_id))
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == tombstone


def test_purge_refuses_an_open_inspection_unless_forced(jtai: Any, filled: Filled) -> None:
    refused = jtai("admin", "purge", "--inspection", str(filled.inspection_id))
    assert refused.exit_code == 1
    assert "not closed" in refused.stderr
    assert refused.stdout == ""
    forced = jtai("admin", "purge", "--inspection", str(filled.inspection_id), "--force-open")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["forced_open"] is True


def test_purge_expired_purges_only_what_retention_allows(
    jtai: Any,
    factory: Factory,
    client: TestClient,
    session_factory: sessionmaker[Session],
) -> None:
    expired, recent, still_open = (fill(factory, client, factory.world()) for _ in range(3))
    close(factory, expired.inspection_id, days_ago=31)
    close(factory, recent.inspection_id, days_ago=29)

    unset = jtai("admin", "purge-expired")
    assert unset.exit_code == 2
    assert "JTAI_RETENTION_DAYS" in unset.stderr
    result = jtai("admin", "purge-expired", JTAI_RETENTION_DAYS="30")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["failed"] == {}
    assert [t["inspection_id"] for t in outcome["purged"]] == [str(expired.inspection_id)]
    assert outcome["purged"][0]["counts"] == expired.counts
    for kept in (recent, still_open):
        assert _tombstone(session_factory, kept.inspection_id) is None
    # Nothing more is due: a second run purges nothing.
    again = jtai("admin", "purge-expired", JTAI_RETENTION_DAYS="30")
    assert json.loads(again.stdout) == {"purged": [], "failed": {}}


def test_purge_expired_continues_a_purge_left_half_way(
    jtai: Any,
    filled: Filled,
    session_factory: sessionmaker[Session],
    storage: Storage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Forced purges of open inspections are continued too, though they are not yet "expired".
    monkeypatch.setattr(storage, "delete", _raise)
    with pytest.raises(OSError, match="store down"):
        purge_inspection(session_factory, storage, filled.inspection_id, "cli", force_open=True)
    monkeypatch.undo()
    result = jtai("admin", "purge-expired", JTAI_RETENTION_DAYS="30")
    assert result.exit_code == 0, result.output
    [tombstone] = json.loads(result.stdout)["purged"]
    assert tombstone["state"] == "finished"
    assert tombstone["purged_by"] == "cli"
    assert tombstone["counts"] == filled.counts


def _raise(key: str) -> None:
    raise OSError("store down")


def test_the_sweeper_purges_when_retention_is_set(
    factory: Factory,
    filled: Filled,
    session_factory: sessionmaker[Session],
    storage: Storage,
) -> None:
    close(factory, filled.inspection_id, days_ago=8)

    async def sweep_for_a_while(retention_days: int | None) -> None:
        with anyio.move_on_after(0.5):
            await run_periodically(session_factory, storage, 3600, 0.05, retention_days)

    anyio.run(sweep_for_a_while, None)
    assert _tombstone(session_factory, filled.inspection_id) is None
    anyio.run(sweep_for_a_while, 7)
    tombstone = _tombstone(session_factory, filled.inspection_id)
    assert tombstone.state is PurgeState.FINISHED
    assert tombstone.purged_by == "sweeper"


def test_jobs_run_once_does_every_job_and_reports_it(
    jtai: Any, factory: Factory, filled: Filled, session_factory: sessionmaker[Session]
) -> None:
    close(factory, filled.inspection_id, days_ago=8)
    kept = jtai("jobs", "run")  # no retention set: nothing is purged, the sweep still runs
    assert kept.exit_code == 0, kept.output
    report = json.loads(kept.stdout)
    assert report["purged_inspections"] == []
    assert report["expired_uploads"] == 0
    assert _tombstone(session_factory, filled.inspection_id) is None
    purged = jtai("jobs", "run", JTAI_RETENTION_DAYS="7")
    assert purged.exit_code == 0, purged.output
    assert json.loads(purged.stdout)["purged_inspections"] == [str(filled.inspection_id)]
    assert _tombstone(session_factory, filled.inspection_id).purged_by == "sweeper"
