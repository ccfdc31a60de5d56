"""Shared pieces of the benchmarks: a scratch PostgreSQL database, a served app, its memory."""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get(
    "JTAI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def scratch_database() -> Iterator[str]:
    name = f"jtai_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def jtai(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=os.environ | env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return result.stdout


@contextmanager
def served(command: list[str], env: dict[str, str], port: int) -> Iterator[int]:
    """Start a server process, wait for /healthz-like readiness, yield its pid, stop it."""
    process = subprocess.Popen(command, env=os.environ | env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"server on port {port} did not start")
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """User plus system CPU time of this process (where boto3's baseline runs)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def token(base: str, client: dict[str, str]) -> str:
    response = httpx.post(
        f"{base}/v1/auth/token", data={"grant_type": "client_credentials", **client}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def demo_world(env: dict[str, str]) -> dict[str, object]:
    world: dict[str, object] = json.loads(jtai(["demo"], env))
    return world


@dataclass(frozen=True)
class DemoService:
    """The demo's world served by `jtai serve` on a scratch database."""

    base: str
    world: Any
    env: dict[str, str]
    database_url: str
    scratch: Path
    pid: int


@contextmanager
def demo_service() -> Iterator[DemoService]:
    """A scratch database and folder, the demo's world in them, and a server on a free port;
    all gone afterwards."""
    with tempfile.TemporaryDirectory() as scratch, scratch_database() as database_url:
        env = {
            "JTAI_DATABASE_URL": database_url,
            "JTAI_VAR_DIR": str(Path(scratch) / "var"),
            "JTAI_LOG_LEVEL": "WARNING",
        }
        world = demo_world(env)
        port = free_port()
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
        with served(command, env, port) as pid:
            yield DemoService(
                f"http://127.0.0.1:{port}", world, env, database_url, Path(scratch), pid
            )


def webhook_bench_app(database_url: str, scratch: Path) -> Any:
    """The app on a migrated scratch database with loopback receivers allowed and its own
    delivery worker off: the webhook benchmarks drive (and count) the worker themselves."""
    from app.auth.keys import generate_private_pem
    from app.core.config import Environment, Settings
    from app.core.migrations import upgrade_to_head
    from app.main import create_app

    upgrade_to_head(database_url)
    settings = Settings(
        environment=Environment.TEST,
        var_dir=scratch,
        database_url=database_url,
        signing_key=generate_private_pem(),  # type: ignore[arg-type]
        webhook_allow_insecure=True,
        webhook_allow_private=True,
        webhook_poll_seconds=0,
        log_level="WARNING",
    )
    return create_app(settings)
