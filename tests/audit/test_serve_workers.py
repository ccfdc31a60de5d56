"""`jtai serve --workers N` under concurrent audited reads: every read ends up linked into one
unbroken chain by the workers' own sequencer loops. Run against real server processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from app.audit.models import AuditEvent, PendingRead
from app.audit.service import verify_chain
from app.core.database import make_engine, make_session_factory, session_scope, utcnow
from tests.live_server import free_port, wait_until_up

READERS, READS_EACH = 8, 12
PATIENCE_SECONDS = 60  # only stops a broken server from hanging the run


def _read_concurrently(url: str, headers: dict[str, str]) -> list[int]:
    statuses: list[int] = []

    def read() -> None:
        with httpx.Client(headers=headers, timeout=PATIENCE_SECONDS) as client:
            for offset in range(READS_EACH):
                statuses.append(client.get(url, params={"limit": 2, "offset": offset}).status_code)

    threads = [threading.Thread(target=read) for _ in range(READERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _serve_and_read(env: dict[str, str], log: Path) -> tuple[list[int], datetime]:
    """The demo's lead reading a list from many threads at once; the answers, and when the
    reads began."""
    world = json.loads(
        subprocess.run(
            [sys.executable, "-m", "app.cli", "demo"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until_up(process, base, log)
        lead = world["clients"]["lead_inspector"]
        answer = httpx.post(
            f"{base}/v1/auth/token", data={"grant_type": "client_credentials", **lead}, timeout=30
        )
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        inspection = world["inspections"]["mental-health"]
        url = f"{base}/v1/inspections/{inspection}/lists/children-in-need"
        began = utcnow()
        statuses = _read_concurrently(url, headers)
        _wait_for_the_queue_to_empty(env["JTAI_DATABASE_URL"])
        return statuses, began
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_the_queue_to_empty(database_url: str) -> None:
    """The servers' own loops link the reads (nothing here runs the sequencer)."""
    engine = make_engine(database_url)
    try:
        deadline = time.monotonic() + PATIENCE_SECONDS
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                left = connection.execute(select(func.count()).select_from(PendingRead))
                if left.scalar_one() == 0:
                    return
            time.sleep(0.2)
        raise AssertionError("the served workers did not link the pending reads")
    finally:
        engine.dispose()


def test_two_workers_link_every_read_into_one_chain(
    empty_database_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "JTAI_DATABASE_URL": empty_database_url,
        "JTAI_VAR_DIR": str(tmp_path / "var"),
        "JTAI_SWEEP_INTERVAL_SECONDS": "0",
        "JTAI_AUDIT_SEQUENCE_SECONDS": "0.2",
        "JTAI_LOG_LEVEL": "WARNING",
    }
    statuses, began = _serve_and_read(env, tmp_path / "serve.log")
    assert statuses == [200] * (READERS * READS_EACH)
    engine = make_engine(empty_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            reads = session.execute(
                select(func.count()).where(
                    AuditEvent.action == "list.read", AuditEvent.occurred_at >= began
                )
            ).scalar_one()
            assert reads == READERS * READS_EACH
            result = verify_chain(session)
            assert result.valid, result.problem
            assert result.events_checked == result.head_seq
    finally:
        engine.dispose()
