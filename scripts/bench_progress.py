"""Benchmark: the lead's progress view against the plainest authorised read, in one run.

Issue 16 asks GET /v1/inspections/{id}/progress to answer one inspection's whole progress on
one page fast: under 100 ms for 7 tracked children, 8 agencies and 36 items on PostgreSQL.
This serves the demo (`jtai demo`: its tracked children, every agency taking part, documents
and nil returns sent) on a scratch PostgreSQL database and times, in alternating rounds on
one keep-alive connection, the progress view and GET /v1/inspections/{id} (authorised, one
row and its participants) as the baseline. It prints medians and p95s of each, their ratio,
the page's size, and the CPU this process (the load generator) used beside the server's.

Run: .venv/bin/python scripts/bench_progress.py [--rounds 200]
Needs PostgreSQL (JTAI_TEST_POSTGRES_URL, default 127.0.0.1:5432 as postgres).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.bench.common import (
    cpu_seconds,
    demo_service,
    own_cpu_seconds,
    token,
)


def _timed(client: httpx.Client, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def _summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return (
        f"{name:<22} median {statistics.median(seconds) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"
    )


def measure(base: str, inspection: str, lead: str, rounds: int) -> dict[str, list[float]]:
    headers = {"Authorization": f"Bearer {lead}"}
    urls = {
        "progress": f"{base}/v1/inspections/{inspection}/progress",
        "inspection (baseline)": f"{base}/v1/inspections/{inspection}",
    }
    times: dict[str, list[float]] = {name: [] for name in urls}
    with httpx.Client(timeout=60) as client:
        for url in urls.values():  # warm both paths
            _timed(client, url, headers)
        for _ in range(rounds):
            for name, url in urls.items():
                times[name].append(_timed(client, url, headers))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    arguments = parser.parse_args()
    with demo_service() as service:
        base, world, pid = service.base, service.world, service.pid
        inspection = world["inspections"]["mental-health"]
        lead = token(base, world["clients"]["lead_inspector"])
        page = httpx.get(
            f"{base}/v1/inspections/{inspection}/progress",
            headers={"Authorization": f"Bearer {lead}"},
            timeout=60,
        ).json()
        server_before, own_before = cpu_seconds(pid), own_cpu_seconds()
        times = measure(base, inspection, lead, arguments.rounds)
        server_cpu, own_cpu = cpu_seconds(pid) - server_before, own_cpu_seconds() - own_before
    children = page["tracked_children"]
    agencies = {a["organisation_id"] for child in children for a in child["agencies"]}
    items = sum(len(agency["requests"]) for agency in page["other_requests"])
    print(f"demo page: {len(children)} tracked children, {len(agencies)} agencies, {items} items")
    for name, seconds in times.items():
        print(_summary(name, seconds))
    ratio = statistics.median(times["progress"]) / statistics.median(times["inspection (baseline)"])
    print(f"progress / baseline (medians): {ratio:.2f}x")
    print(f"CPU: server {server_cpu:.2f} s, load generator {own_cpu:.2f} s")
    median_ms = statistics.median(times["progress"]) * 1000
    print(f"target: progress median under 100 ms: {'met' if median_ms < 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
