"""Benchmark: list pushes against COPY and calamine, and a 1 GiB upload against boto3, one run.

Each row prints the service, its peer measured in the same run (alternating, so a slow spell on
this shared machine falls on both alike), the ratio and the API server's RSS growth:
- CSV push of N rows through the API into PostgreSQL vs a raw ``COPY`` of the same CSV
  (target <= 1.5x);
- XLSX push of the same rows vs python-calamine merely reading the workbook (target <= 1.25x);
- the server's peak RSS growth over those pushes (target < 100 MiB);
- a push of 5 x N rows (500,000, the row limit) vs the N-row push (target <= 5.5x, same memory);
- 1 GiB streamed through ``POST /v1/requests/{id}/documents`` into SeaweedFS vs boto3's
  multipart upload of the same bytes (target >= 0.9x, RSS growth < 64 MiB).

Run: .venv/bin/python scripts/bench_ingest.py [--rows 100000] [--repeats 3] [--size-mib 1024]
     [--only lists|uploads]
Needs PostgreSQL (JTAI_TEST_POSTGRES_URL, default 127.0.0.1:5432 as postgres).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from python_calamine import CalamineWorkbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.bench.common import (
    cpu_seconds,
    demo_world,
    free_port,
    rss_kib,
    scratch_database,
    served,
    token,
)
from scripts.bench_documents import MiB, boto3_baseline, make_file, streamed
from scripts.bench_lists import XLSX, csv_bytes, generate_rows, push, xlsx_file
from tests.storage.seaweed import SeaweedServer

Row = tuple[str, str, str, str, str, str]


class Copier:
    """The peer of a CSV push: ``COPY`` of the same CSV into a plain table of text columns, on
    one connection kept open (as the service's pool keeps its own), so that its backend's CPU
    is counted."""

    def __init__(self, database_url: str, headings: list[str]) -> None:
        dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
        self.connection = psycopg.connect(dsn)
        self.columns = ", ".join(f"c{i} text" for i in range(len(headings)))

    def __call__(self, body: bytes) -> float:
        self.connection.execute("DROP TABLE IF EXISTS bench_copy")
        self.connection.execute(f"CREATE TABLE bench_copy ({self.columns})")
        self.connection.commit()
        started = time.perf_counter()
        with (
            self.connection.cursor() as cursor,
            cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            copy.write(body)
        self.connection.commit()
        return time.perf_counter() - started


def calamine_read(path: Path) -> float:
    """The peer of an XLSX push: calamine reading every cell of the sheet into Python."""
    started = time.perf_counter()
    workbook = CalamineWorkbook.from_path(str(path))
    workbook.get_sheet_by_index(0).to_python()
    return time.perf_counter() - started


class CpuMeter:
    """CPU seconds of everything a push or its peer runs on this machine: this process (the
    HTTP or database client), the API server and its list readers, and the PostgreSQL
    backends of the database. Wall times on a shared 2-core machine follow the neighbours;
    these do not."""

    def __init__(self, server: int | None, database: str) -> None:
        self.server, self.database = server, database
        self.runs: list[float] = []

    def _pids(self) -> set[int]:
        pids = {os.getpid()}
        if self.server is not None:
            pids.add(self.server)
            for task in Path(f"/proc/{self.server}/task").iterdir():
                pids.update(int(p) for p in (task / "children").read_text().split())
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    command = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if command.startswith(b"postgres: ") and f" {self.database} ".encode() in command:
                    pids.add(int(entry.name))
        return pids

    def _snapshot(self) -> dict[int, float]:
        found = {}
        for pid in self._pids():
            try:
                found[pid] = cpu_seconds(pid)
            except OSError:
                continue
        return found

    def timed(self, run: Callable[[], float]) -> Callable[[], float]:
        def measured() -> float:
            before = self._snapshot()
            seconds = run()
            after = self._snapshot()
            self.runs.append(sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items()))
            return seconds

        return measured


def reset_peak(pid: int) -> None:
    """Start the kernel's peak-RSS count afresh (Linux: writing 5 to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@contextmanager
def peak_growth(pid: int, base: int, into: list[float]) -> Iterator[None]:
    """Append the server's peak RSS (MiB) over the block, above ``base`` (KiB: its RSS before
    the first push or upload, so what an earlier one kept counts too), to ``into``."""
    reset_peak(pid)
    yield
    into.append((rss_kib(pid, "VmHWM") - base) / 1024)


def alternate(
    repeats: int, ours: Callable[[], float], peer: Callable[[], float]
) -> tuple[list[float], list[float]]:
    mine, theirs = [], []
    for _ in range(repeats):
        theirs.append(peer())
        mine.append(ours())
    return mine, theirs


def row(
    what: str,
    ours: list[float],
    peers: list[float],
    peer: str,
    cpu: tuple[CpuMeter, CpuMeter] | None,
    growth: str,
) -> Row:
    ours_s, peer_s = statistics.median(ours), statistics.median(peers)
    per_run = ", ".join(f"{o / p:.2f}" for o, p in zip(ours, peers, strict=True))
    spent = "-"
    if cpu is not None:
        mine, theirs = (statistics.median(meter.runs) for meter in cpu)
        spent = f"{mine:.2f} s / {theirs:.2f} s = {mine / theirs:.2f}x"
    return (
        what,
        f"{ours_s:.2f} s",
        f"{peer}: {peer_s:.2f} s",
        f"**{ours_s / peer_s:.2f}x** (runs {per_run})",
        spent,
        growth,
    )


def bench_lists(options: argparse.Namespace, scratch: Path) -> list[Row]:
    headings, rows = generate_rows(options.rows)
    body = csv_bytes(headings, rows)
    workbook = scratch / "cin.xlsx"
    xlsx_file(headings, rows, workbook)
    big_headings, big_rows = generate_rows(options.rows * 5, seed=8)
    big_body = csv_bytes(big_headings, big_rows)
    del rows, big_rows
    xlsx_body = workbook.read_bytes()
    print(
        f"{options.rows:,} rows: CSV {len(body) / 1e6:.1f} MB, XLSX {len(xlsx_body) / 1e6:.1f} MB;"
        f" {options.rows * 5:,} rows: CSV {len(big_body) / 1e6:.1f} MB",
        flush=True,
    )
    with scratch_database() as database_url:
        database = database_url.rsplit("/", 1)[1]
        env = {
            "JTAI_DATABASE_URL": database_url,
            "JTAI_VAR_DIR": str(scratch / "var"),
            "JTAI_LOG_LEVEL": "WARNING",
            # 500,000 rows of this list are ~70 MB of CSV: the row limit, not the byte limit,
            # is what this measures.
            "JTAI_MAX_LIST_BYTES": str(200 * 1000 * 1000),
        }
        world: Any = demo_world(env)
        inspection = world["inspections"]["mental-health"]
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
        with served(command, env, port) as pid:
            agency = token(base, world["clients"]["local_authority"])
            # One connection kept open for every push, as the COPY peer keeps its own.
            client = httpx.Client(timeout=600)
            first = csv_bytes(*generate_rows(10, seed=9))
            # A first small push starts a list reader, so the runs compare pushes, not start-up.
            push(base, agency, inspection, first, "text/csv", client)
            base_rss = rss_kib(pid)
            growth: list[float] = []
            meters = [CpuMeter(pid, database) for _ in range(6)]
            copier = Copier(database_url, headings)

            def csv_push(data: bytes = body) -> float:
                with peak_growth(pid, base_rss, growth):
                    return push(base, agency, inspection, data, "text/csv", client)

            def xlsx_push() -> float:
                with peak_growth(pid, base_rss, growth):
                    return push(base, agency, inspection, xlsx_body, XLSX, client)

            csv_ours, copies = alternate(
                options.repeats,
                meters[0].timed(csv_push),
                meters[1].timed(lambda: copier(body)),
            )
            csv_growth, growth[:] = list(growth), []
            xlsx_ours, reads = alternate(
                options.repeats,
                meters[2].timed(xlsx_push),
                meters[3].timed(lambda: calamine_read(workbook)),
            )
            xlsx_growth, growth[:] = list(growth), []
            big_ours, small = alternate(
                options.repeats,
                meters[4].timed(lambda: csv_push(big_body)),
                meters[5].timed(csv_push),
            )
            big_growth = growth[1::2]
            total = (rss_kib(pid) - base_rss) / 1024
            copier.connection.close()
            client.close()
    n = f"{options.rows:,}"
    return [
        row(
            f"CSV push of {n} rows",
            csv_ours,
            copies,
            "COPY",
            (meters[0], meters[1]),
            _mib(csv_growth),
        ),
        row(
            f"XLSX push of {n} rows",
            xlsx_ours,
            reads,
            "calamine read",
            (meters[2], meters[3]),
            _mib(xlsx_growth),
        ),
        row(
            f"CSV push of {options.rows * 5:,} rows",
            big_ours,
            small,
            f"{n}-row push",
            (meters[4], meters[5]),
            _mib(big_growth),
        ),
        ("server RSS after all pushes", f"+{total:.0f} MiB", "", "", "", ""),
    ]


def _mib(values: list[float]) -> str:
    return "peak +" + "/".join(f"{v:.0f}" for v in values) + " MiB"


def bench_uploads(options: argparse.Namespace, scratch: Path) -> list[Row]:
    big = scratch / "big.pdf"
    digest = make_file(big, options.size_mib * MiB)
    seaweed_server = SeaweedServer(scratch / "seaweed")
    seaweed = seaweed_server.start()
    bucket = f"jtai-bench-{uuid.uuid4().hex[:8]}"
    try:
        with scratch_database() as database_url:
            env = {
                "JTAI_DATABASE_URL": database_url,
                "JTAI_VAR_DIR": str(scratch / "var"),
                "JTAI_LOG_LEVEL": "WARNING",
                "JTAI_STORAGE": "s3",
                "JTAI_S3_BUCKET": bucket,
                "JTAI_S3_ENDPOINT_URL": seaweed.endpoint_url,
                "JTAI_S3_REGION": seaweed.region,
                "JTAI_MAX_UPLOAD_BYTES": str(4 * 1024 * MiB),
                "AWS_ACCESS_KEY_ID": seaweed.access_key,
                "AWS_SECRET_ACCESS_KEY": seaweed.secret_key,
            }
            world: Any = demo_world(env)
            inspection = world["inspections"]["mental-health"]
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
            with served(command, env, port) as pid:
                council = token(base, world["clients"]["local_authority"])
                requests = httpx.get(
                    f"{base}/v1/inspections/{inspection}/requests",
                    headers={"Authorization": f"Bearer {council}"},
                    timeout=60,
                ).json()
                growth: list[float] = []
                base_rss = rss_kib(pid)

                def ours() -> float:
                    with peak_growth(pid, base_rss, growth):
                        seconds, document = streamed(base, council, requests[0]["id"], big)
                    assert document["sha256"] == digest, "the streamed upload's hash is wrong"
                    return seconds

                mine, direct = alternate(
                    options.repeats, ours, lambda: boto3_baseline(seaweed, bucket, big)
                )
    finally:
        seaweed_server.stop()
    # Throughput, not time: the ratio is ours over the peer's, higher is better.
    size = options.size_mib
    per_run = ", ".join(f"{d / m:.2f}" for m, d in zip(mine, direct, strict=True))
    ours_rate, peer_rate = size / statistics.median(mine), size / statistics.median(direct)
    return [
        (
            f"{size} MiB streamed upload into SeaweedFS",
            f"{ours_rate:.0f} MiB/s",
            f"boto3 multipart: {peer_rate:.0f} MiB/s",
            f"**{ours_rate / peer_rate:.2f}x** (runs {per_run})",
            "-",
            _mib(growth),
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--only", choices=["lists", "uploads"])
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="jtai-bench-"))
    rows: list[Row] = []
    try:
        if options.only != "uploads":
            rows += bench_lists(options, scratch)
        if options.only != "lists":
            rows += bench_uploads(options, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"medians of {options.repeats} alternating runs; ratio = service / peer for times")
    print("| what | service | peer in the same run | ratio | CPU s, service / peer | RSS growth |")
    print("| --- | --- | --- | --- | --- | --- |")
    for what, ours, peer, ratio, cpu, growth in rows:
        print(f"| {what} | {ours} | {peer} | {ratio} | {cpu} | {growth} |")


if __name__ == "__main__":
    main()
