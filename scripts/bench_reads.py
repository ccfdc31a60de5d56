"""Benchmark: a page of 100 rows of a 5,000-row list, read by the lead inspector at 50 clients,
against a plain FastAPI + SQLAlchemy endpoint paging the same rows, in alternating rounds.

The service reads the children-in-need list of the demo's mental-health inspection after a
5,000-row push (authorised, audited, PostgreSQL); the peer (scripts/bench/peer_app.py) pages
the same rows from a plain table (a column per heading, a serial key) with no token and no
audit. Both run at once and are driven in turn, round after round, by the same light load
generator (scripts/bench/load.py), whose own CPU is printed beside each server's. Pages walk
the list (offsets 0, 100, ... 4,900) on both sides. Targets (issue 19): at least 1.0x the
peer's requests per second, p99 within 2x.

Run: .venv/bin/python scripts/bench_reads.py [--rows 5000] [--seconds 10] [--rounds 3]
     [--workers 1]
Needs PostgreSQL (JTAI_TEST_POSTGRES_URL, default 127.0.0.1:5432 as postgres).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.bench.common import (
    cpu_seconds,
    demo_world,
    free_port,
    scratch_database,
    served,
    token,
)
from scripts.bench.load import LoadResult, request_bytes, run_load
from scripts.bench_lists import copy_baseline, csv_bytes, generate_rows, push


def _pages(base: str, path: str, rows: int, headers: dict[str, str]) -> list[bytes]:
    return [
        request_bytes(f"{base}{path}limit=100&offset={offset}", headers)
        for offset in range(0, rows, 100)
    ]


def _line(name: str, result: LoadResult, server_cpu: float) -> str:
    return (
        f"{name:<8} {result.rate:7.0f} req/s  p50 {result.p50 * 1000:7.1f} ms  "
        f"p99 {result.p99 * 1000:7.1f} ms  server CPU {server_cpu / result.requests * 1000:5.1f} "
        f"ms/req  generator CPU {result.cpu_seconds / result.seconds:4.2f} of a core"
    )


def measure(options: argparse.Namespace) -> dict[str, tuple[LoadResult, float]]:
    headings, rows = generate_rows(options.rows)
    body = csv_bytes(headings, rows)
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database_url = stack.enter_context(scratch_database())
        env = {
            "JTAI_DATABASE_URL": database_url,
            "JTAI_VAR_DIR": str(scratch / "var"),
            "JTAI_LOG_LEVEL": "WARNING",
        }
        world: Any = demo_world(env)
        inspection = world["inspections"]["mental-health"]
        copy_baseline(database_url, headings, body)  # the peer's table
        port, peer_port = free_port(), free_port()
        service_command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
        service_command += ["--workers", str(options.workers)]
        peer_command = [sys.executable, "-m", "uvicorn", "scripts.bench.peer_app:app"]
        peer_command += ["--port", str(peer_port), "--log-level", "warning"]
        pids = {
            "service": stack.enter_context(served(service_command, env, port)),
            "peer": stack.enter_context(
                served(peer_command, env | {"BENCH_DATABASE_URL": database_url}, peer_port)
            ),
        }
        base, peer_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer_port}"
        push(base, token(base, world["clients"]["local_authority"]), inspection, body, "text/csv")
        lead = {"Authorization": f"Bearer {token(base, world['clients']['lead_inspector'])}"}
        targets = {
            "service": (
                base,
                _pages(
                    base, f"/v1/inspections/{inspection}/lists/children-in-need?", len(rows), lead
                ),
            ),
            "peer": (peer_base, _pages(peer_base, "/rows?", len(rows), {})),
        }
        for url, requests in targets.values():  # warm both: pools, caches, lazy imports
            run_load(url, requests, options.clients, 2)
        totals: dict[str, tuple[LoadResult, float]] = {}
        for round_number in range(options.rounds):
            for name, (url, requests) in targets.items():
                before = _server_cpu(pids[name])
                last = round_number == options.rounds - 1
                profiler = _profile(options.profile, name, pids[name], options.seconds, last)
                result = run_load(url, requests, options.clients, options.seconds)
                if profiler is not None:
                    profiler.wait()
                used = _server_cpu(pids[name]) - before
                print(f"round {round_number + 1} " + _line(name, result, used), flush=True)
                if name in totals:
                    result, used = totals[name][0] + result, totals[name][1] + used
                totals[name] = (result, used)
        return totals


def _profile(
    folder: Path | None, name: str, pid: int, seconds: float, last: bool
) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the server through the last round, without pausing it (--nonblocking),
    as collapsed stacks per thread with idle frames: where requests wait shows too."""
    if folder is None or not last:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    output = folder / f"{name}.txt"
    print(f"profiling {name} into {output}", flush=True)
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--duration", str(int(seconds))]
    command += ["--format", "raw", "--output", str(output), "--idle", "--threads"]
    command += ["--nonblocking", "--subprocesses"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def _server_cpu(pid: int) -> float:
    """The server's CPU with its children's (uvicorn's workers under --workers N)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return cpu_seconds(pid) + sum(cpu_seconds(int(child)) for child in children)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="jtai serve --workers")
    parser.add_argument(
        "--profile", type=Path, help="py-spy both servers in the last round, into this folder"
    )
    options = parser.parse_args()
    totals = measure(options)
    ours, ours_cpu = totals["service"]
    peer, peer_cpu = totals["peer"]
    print(f"all rounds, {options.clients} clients, a page of 100 of {options.rows} rows:")
    print(_line("service", ours, ours_cpu))
    print(_line("peer", peer, peer_cpu))
    print(
        f"ratio    {ours.rate / peer.rate:7.2f}x req/s (target >= 1.0x), "
        f"p99 {ours.p99 / peer.p99:5.2f}x (target <= 2x)"
    )


if __name__ == "__main__":
    main()
