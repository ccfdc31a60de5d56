"""Benchmark: pushing 100,000 children-in-need rows, and reading pages of them.

Everything is measured in one run on this machine against baselines measured in the same run:
- CSV push through the API into PostgreSQL vs a raw COPY of the same CSV into a table of the
  same columns (target: within 3x);
- XLSX push through the API vs openpyxl merely reading the same workbook (target: push time
  at most 0.25x of that read);
- the server's memory growth while ingesting (target: under 200 MB);
- a page of 100 rows, authorised and audited, at 50 concurrent clients vs a plain FastAPI +
  SQLAlchemy endpoint paging through the same rows in a plain table (the COPY baseline's, with
  a serial key) with no token and no audit (target: at least 0.5x
  its requests per second, p99 within 2x).

Run: .venv/bin/python scripts/bench_lists.py [--rows 100000] [--seconds 10] [--repeats 3]
Needs PostgreSQL (JTAI_TEST_POSTGRES_URL, default 127.0.0.1:5432 as postgres).
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from random import Random
from typing import Any

import httpx
import psycopg
from openpyxl import Workbook, load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.themes.registry import builtin_themes
from scripts.bench.common import (
    demo_world,
    free_port,
    rss_kib,
    scratch_database,
    served,
    token,
)
from scripts.bench.load import request_bytes, run_load

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def generate_rows(count: int, seed: int = 7) -> tuple[list[str], list[list[str]]]:
    """Valid mental-health children-in-need rows, written as the Ofsted workbook would."""
    spec = builtin_themes().get("mental-health").get_list("children-in-need")
    assert spec is not None
    follow_ups = spec.required_when_equals("mh_concern", "Y")
    headings = [field.heading for field in spec.fields]
    keys = [field.key for field in spec.fields]
    random, today = Random(seed), date.today()
    rows = []
    for n in range(count):
        age = random.randint(0, 17)
        birth = today.replace(year=today.year - age) - timedelta(days=random.randint(1, 300))
        values: dict[str, str] = {
            "child_id": f"C{n:07d}",
            "gender": random.choice(["a) Male", "b) Female"]),
            "ethnicity": random.choice(["a) WBRI", "j) AIND", "o) BAFR"]),
            "date_of_birth": birth.strftime("%d/%m/%Y"),
            "age_years": str(age),
            "disability": random.choice(["a) Yes", "b) No"]),
            "cin_start_date": (today - timedelta(days=random.randint(30, 900))).strftime(
                "%d/%m/%Y"
            ),
            "primary_need": "N1 - Abuse or neglect",
            "last_seen_date": (today - timedelta(days=random.randint(1, 60))).strftime("%d/%m/%Y"),
            "case_status": "c) Child in need plan",
            "allocated_team": f"Team {n % 12}",
            "allocated_worker": f"Worker {n % 300}",
        }
        if 10 <= age <= 15:
            concern = random.choice(["Y", "N"])
            values |= {"mh_concern": concern, "mh_support_need": "N"}
            if concern == "Y":
                values |= {key: random.choice(["Y", "N"]) for key in follow_ups}
        rows.append([values.get(key, "") for key in keys])
    return headings, rows


def csv_bytes(headings: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headings)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def xlsx_file(headings: list[str], rows: list[list[str]], target: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("List_6")
    sheet.append(headings)
    for row in rows:
        sheet.append(row)
    workbook.save(target)


def copy_baseline(database_url: str, headings: list[str], body: bytes) -> float:
    columns = ", ".join(f"c{i} text" for i in range(len(headings)))
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_copy")
        connection.execute(f"CREATE TABLE bench_copy ({columns})")
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            copy.write(body)
        connection.commit()
        elapsed = time.perf_counter() - started
        # The read benchmark's peer pages through this table by a serial key (not timed).
        connection.execute("ALTER TABLE bench_copy ADD COLUMN id bigserial PRIMARY KEY")
        connection.commit()
        return elapsed


def openpyxl_read(path: Path) -> float:
    started = time.perf_counter()
    workbook = load_workbook(path, read_only=True)
    for _row in workbook.worksheets[0].iter_rows(values_only=True):
        pass
    return time.perf_counter() - started


# What the pushes send the body in (see push).
SEND_BYTES = 1024 * 1024


def push(
    base: str,
    bearer: str,
    inspection: str,
    body: bytes,
    media_type: str,
    client: httpx.Client | None = None,
) -> float:
    """Seconds for one push; through ``client`` (a kept-open connection, as a ``COPY`` peer
    keeps its own) when given. Without one, each push makes a client first: httpx loads its
    TLS context even for plain HTTP, 20 ms counted as the service's.

    The body goes in slices of the caller's bytes with its length declared: given whole, httpx
    joined it into a new buffer of its own to send (a 72 MB body: 0.25-0.45 s of this
    process's CPU in page faults, and the body arrived half a second late)."""
    slices = (memoryview(body)[i : i + SEND_BYTES] for i in range(0, len(body), SEND_BYTES))
    started = time.perf_counter()
    response = (client or httpx).put(
        f"{base}/v1/inspections/{inspection}/lists/children-in-need",
        content=slices,
        headers={
            "Authorization": f"Bearer {bearer}",
            "Content-Type": media_type,
            "Content-Length": str(len(body)),
        },
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"push refused: {response.status_code} {response.text[:500]}")
    return elapsed


def load(url: str, headers: dict[str, str], clients: int, seconds: float) -> tuple[float, float]:
    """Requests per second and p99, through the light generator (scripts/bench/load.py):
    httpx.AsyncClient took a core of its own here. scripts/bench_reads.py is the read
    benchmark proper (service and peer in alternating rounds)."""
    result = run_load(url, [request_bytes(url, headers)], clients, seconds)
    return result.rate, result.p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3, help="COPY and CSV push runs (median)")
    options = parser.parse_args()

    headings, rows = generate_rows(options.rows)
    body = csv_bytes(headings, rows)
    scratch = Path(tempfile.mkdtemp())
    workbook_path = scratch / "cin.xlsx"
    xlsx_file(headings, rows, workbook_path)
    size = workbook_path.stat().st_size / 1e6
    print(f"{options.rows} rows: CSV {len(body) / 1e6:.1f} MB, XLSX {size:.1f} MB")

    with scratch_database() as database_url:
        env = {
            "JTAI_DATABASE_URL": database_url,
            "JTAI_VAR_DIR": str(scratch / "var"),
            "JTAI_LOG_LEVEL": "WARNING",  # a log line per request would measure the terminal
        }
        world: Any = demo_world(env)
        inspection = world["inspections"]["mental-health"]
        copy_seconds = statistics.median(
            copy_baseline(database_url, headings, body) for _ in range(options.repeats)
        )
        read_seconds = openpyxl_read(workbook_path)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
        with served(command, env, port) as pid:
            agency = token(base, world["clients"]["local_authority"])
            # The first push also pays for warming up (thread pools, lazy imports): its memory
            # growth is the one reported, the worst; the time is the median of the pushes.
            before = rss_kib(pid)
            csv_times = [push(base, agency, inspection, body, "text/csv")]
            csv_growth = (rss_kib(pid, "VmHWM") - before) / 1024
            csv_times += [
                push(base, agency, inspection, body, "text/csv") for _ in range(options.repeats - 1)
            ]
            csv_seconds = statistics.median(csv_times)
            reset_peak(pid)
            before = rss_kib(pid)
            xlsx_seconds = push(base, agency, inspection, workbook_path.read_bytes(), XLSX)
            xlsx_growth = (rss_kib(pid, "VmHWM") - before) / 1024
            lead = token(base, world["clients"]["lead_inspector"])
            page_url = f"{base}/v1/inspections/{inspection}/lists/children-in-need?limit=100"
            ours = load(
                page_url, {"Authorization": f"Bearer {lead}"}, options.clients, options.seconds
            )
        peer_port = free_port()
        peer_env = env | {"BENCH_DATABASE_URL": database_url}
        peer_command = [
            sys.executable,
            "-m",
            "uvicorn",
            "scripts.bench.peer_app:app",
            "--port",
            str(peer_port),
            "--log-level",
            "warning",
        ]
        with served(peer_command, peer_env, peer_port):
            peer = load(
                f"http://127.0.0.1:{peer_port}/rows?limit=100", {}, options.clients, options.seconds
            )

    rate = options.rows
    print(
        f"COPY baseline          {copy_seconds:7.2f} s  {rate / copy_seconds:10.0f} rows/s (median)"
    )
    print(
        f"CSV push via API       {csv_seconds:7.2f} s  {rate / csv_seconds:10.0f} rows/s  "
        f"(median of {', '.join(f'{t:.2f}' for t in csv_times)}) "
        f"ratio to COPY {csv_seconds / copy_seconds:5.1f}x (target <= 3x)"
    )
    print(f"openpyxl read baseline {read_seconds:7.2f} s  {rate / read_seconds:10.0f} rows/s")
    print(
        f"XLSX push via API      {xlsx_seconds:7.2f} s  {rate / xlsx_seconds:10.0f} rows/s  "
        f"ratio to openpyxl read {xlsx_seconds / read_seconds:5.2f}x (target <= 0.25x)"
    )
    print(
        f"server memory growth   {csv_growth:7.1f} MB pushing CSV, {xlsx_growth:.1f} MB XLSX "
        "(target < 200 MB)"
    )
    print(f"page reads, ours       {ours[0]:7.0f} req/s  p99 {ours[1] * 1000:6.1f} ms")
    print(f"page reads, plain CRUD {peer[0]:7.0f} req/s  p99 {peer[1] * 1000:6.1f} ms")
    print(
        f"read ratio             {ours[0] / peer[0]:7.2f}x req/s (target >= 0.5x), "
        f"p99 {ours[1] / peer[1]:5.2f}x (target <= 2x)"
    )


def reset_peak(pid: int) -> None:
    """Start the kernel's peak-RSS count afresh (Linux: writing 5 to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


if __name__ == "__main__":
    main()
