"""Benchmark: a page of 100 rows of a 5,000-row list, read by the lead inspector at 50 clients,
against a plain FastAPI + SQLAlchemy endpoint paging the same rows, in alternating rounds.

The service reads the children-in-need list of the demo's mental-health inspection after a
5,000-row push (authorised, audited, PostgreSQL); the peer (scripts/bench/peer_app.py) pages
the same rows from a plain table (a column per heading, a serial key) with no token and no
audit. Both run at once and are driven in turn, round after round, by the same light load
generator (scripts/bench/load.py), whose own CPU is printed beside each server's. Pages walk
the list (offsets 0, 100, ... 4,900) on both sides. Targets (issue 19): at least 1.0x the
peer's requests per second, p99 within 2x.

With --filtered the list is pushed by three suppliers (the council, health and the youth
offending service, a third of the rows each) and the service alone is driven, in alternating
rounds: plain pages (the baseline of the same run), pages filtered on gender and sorted by age,
and pages sorted by date of birth, newest first; printed as ratios to the plain pages.

Run: .venv/bin/python scripts/bench_reads.py [--rows 5000] [--seconds 10] [--rounds 3]
     [--workers 1] [--filtered]
Needs PostgreSQL (JTAI_TEST_POSTGRES_URL, default 127.0.0.1:5432 as postgres).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

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

SUPPLIERS = ("local_authority", "health", "youth_offending")
LIST_PATH = "/v1/inspections/{inspection}/lists/children-in-need?"
# Selections of the --filtered case, beside the plain pages.
SELECTIONS = {
    "filtered": "gender=F&sort=age_years&",
    "sorted": "sort=date_of_birth&descending=true&",
}


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


def measure(options: argparse.Namespace) -> dict[str, list[tuple[LoadResult, float]]]:
    """Each target's result and server CPU, round by round."""
    headings, rows = generate_rows(options.rows)
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
        port = free_port()
        service_command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
        service_command += ["--workers", str(options.workers)]
        pid = stack.enter_context(served(service_command, env, port))
        base = f"http://127.0.0.1:{port}"
        suppliers = SUPPLIERS if options.filtered else SUPPLIERS[:1]
        for index, supplier in enumerate(suppliers):  # a share of the rows each
            body = csv_bytes(headings, rows[index :: len(suppliers)])
            push(base, token(base, world["clients"][supplier]), inspection, body, "text/csv")
        lead = {"Authorization": f"Bearer {token(base, world['clients']['lead_inspector'])}"}
        path = LIST_PATH.format(inspection=inspection)
        targets = {"service": (base, _pages(base, path, len(rows), lead), pid)}
        if options.filtered:
            targets = {"plain": targets["service"]}
            for name, selection in SELECTIONS.items():
                found = _total(f"{base}{path}{selection}limit=1", lead)
                targets[name] = (base, _pages(base, path + selection, found, lead), pid)
        else:
            targets["peer"] = _peer(stack, database_url, env, headings, rows)
        return _rounds(options, targets)


def _total(url: str, headers: dict[str, str]) -> int:
    answer = httpx.get(url, headers=headers, timeout=60)
    answer.raise_for_status()
    return int(answer.json()["total"])


def _peer(
    stack: ExitStack,
    database_url: str,
    env: dict[str, str],
    headings: list[str],
    rows: list[list[str]],
) -> tuple[str, list[bytes], int]:
    """The plain FastAPI + SQLAlchemy endpoint paging the same rows from a plain table."""
    copy_baseline(database_url, headings, csv_bytes(headings, rows))  # the peer's table
    peer_port = free_port()
    peer_command = [sys.executable, "-m", "uvicorn", "scripts.bench.peer_app:app"]
    peer_command += ["--port", str(peer_port), "--log-level", "warning"]
    peer_env = env | {"BENCH_DATABASE_URL": database_url}
    pid = stack.enter_context(served(peer_command, peer_env, peer_port))
    peer_base = f"http://127.0.0.1:{peer_port}"
    return peer_base, _pages(peer_base, "/rows?", len(rows), {}), pid


def _rounds(
    options: argparse.Namespace, targets: dict[str, tuple[str, list[bytes], int]]
) -> dict[str, list[tuple[LoadResult, float]]]:
    """The targets driven in turn, round after round, after a warm-up of each."""
    for url, requests, _ in targets.values():  # pools, caches, lazy imports
        run_load(url, requests, options.clients, 2)
    results: dict[str, list[tuple[LoadResult, float]]] = {name: [] for name in targets}
    for round_number in range(options.rounds):
        for name, (url, requests, pid) in targets.items():
            before = _server_cpu(pid)
            last = round_number == options.rounds - 1
            profiler = _profile(
                options.profile, name, pid, options.seconds, last, options.profile_cpu
            )
            result = run_load(url, requests, options.clients, options.seconds)
            if profiler is not None:
                profiler.wait()
            used = _server_cpu(pid) - before
            print(f"round {round_number + 1} " + _line(name, result, used), flush=True)
            results[name].append((result, used))
    return results


def _summed(rounds: list[tuple[LoadResult, float]]) -> tuple[LoadResult, float]:
    total, used = rounds[0]
    for result, cpu in rounds[1:]:
        total, used = total + result, used + cpu
    return total, used


def _profile(
    folder: Path | None, name: str, pid: int, seconds: float, last: bool, cpu: bool
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
    command += ["--format", "raw", "--output", str(output), "--nonblocking", "--subprocesses"]
    # --gil: only the thread holding the GIL, i.e. where the CPU goes; else every thread's
    # stack, idle ones too, i.e. where requests wait.
    command += ["--gil"] if cpu else ["--idle", "--threads"]
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
        "--filtered", action="store_true", help="three suppliers; filtered and sorted pages"
    )
    parser.add_argument(
        "--profile", type=Path, help="py-spy both servers in the last round, into this folder"
    )
    parser.add_argument(
        "--profile-cpu", action="store_true", help="with --profile: only the GIL holder's stacks"
    )
    options = parser.parse_args()
    results = measure(options)
    print(f"all rounds, {options.clients} clients, a page of 100 of {options.rows} rows:")
    for name, rounds in results.items():
        print(_line(name, *_summed(rounds)))
    if options.filtered:
        _print_selection_ratios(results)
        return
    ours, peer = _summed(results["service"])[0], _summed(results["peer"])[0]
    print(
        f"ratio    {ours.rate / peer.rate:7.2f}x req/s (target >= 1.0x), "
        f"p99 {ours.p99 / peer.p99:5.2f}x (target <= 2x)"
    )


def _print_selection_ratios(results: dict[str, list[tuple[LoadResult, float]]]) -> None:
    """Each selection against the plain pages of the same rounds: the median of the rounds'
    ratios of requests per second, and of server CPU per request."""
    plain = results["plain"]
    for name in SELECTIONS:
        rates = [s.rate / p.rate for (s, _), (p, _) in zip(results[name], plain, strict=True)]
        costs = [
            (s_cpu / s.requests) / (p_cpu / p.requests)
            for (s, s_cpu), (p, p_cpu) in zip(results[name], plain, strict=True)
        ]
        print(
            f"{name}/plain  req/s {statistics.median(rates):5.2f}x "
            f"(rounds {', '.join(f'{r:.2f}' for r in rates)}), "
            f"server CPU per request {statistics.median(costs):5.2f}x"
        )


if __name__ == "__main__":
    main()
