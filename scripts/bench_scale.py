"""Benchmark (part of issue 19's "Growth"): do reads stay as fast as the audit trail grows?

Serves the demo twice, each on its own scratch PostgreSQL database: one left as the demo
leaves it (small), one grown by --events audit events bulk-loaded (as pending reads, by SQL)
and linked into the chain by the sequencer (big). Those are the events of a hundred
inspections each in its own spell of the chain, the measured one's the last hundredth: its
audit trail grows with the chain, with a gap of the others' events after the demo's. Then
times, on one keep-alive connection each, a page of a list, a child looked up across lists,
the progress view and three of the inspection's audit pages, by ``after_seq``: the first,
one of 20 rows across the gap (its last 10 events before the growth and on) and the latest
(its last 100): medians of --requests each, on the two services in alternating --rounds, so
that the shared machine's load falls on both sides alike. `jtai audit verify` (from the last
anchor, its default) is timed on each chain after an anchor and the same --after-anchor
events since it, and `jtai audit verify --full` on the big one for scale. Prints each figure
with its ratio (target: reads within 1.5x; verify from the last anchor the same on both
chains, ~1x).

This server runs with autovacuum off: both databases are vacuumed and analysed where
autovacuum would have been (after the demo, after the linking), or the planner would plan
the reads of a million rows it has never counted.

With --inspections N (and --lists, --rows), N other inspections with lists of rows are
made through the service functions (scripts/bench/scale_world.py) before the big reads too:
the issue's figure is --inspections 100 --lists 8 --rows 5000 (long on this machine).

Not yet here: the 500,000-row push against a 100,000-row one.

The big chain's events are queued by SQL (generate_series, a million a transaction), then
linked by the sequencer's own batch linker (--link-batch a transaction), its rate printed
every tenth of the way: the API would take hours to make them, the linker takes minutes.

Run: .venv/bin/python scripts/bench_scale.py [--events 100000] [--requests 10] [--rounds 3]
     (the issue's full figure: --events 10000000; at the 10,000-17,000 events a second linked
     and 40,000-50,000 verified a second measured at 1,000,000 on this 2-core machine at load
     average 3-8, 10-17 minutes of linking and twice 4 of `verify --full`, which --no-full
     leaves out)
Needs PostgreSQL (JTAI_TEST_POSTGRES_URL, default 127.0.0.1:5432 as postgres).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.audit.sequencer import chain_pending
from app.audit.service import verify_chain
from app.core.database import make_session_factory, session_scope
from scripts.bench.common import DemoService, demo_service, jtai, token
from scripts.bench.scale_world import grow_inspections

# Events of a hundred inspections, as reads would leave them (no child data), each in its own
# spell of the chain as inspections run a few weeks each one after another: ninety-nine
# others, then the measured one's (the last hundredth), whose trail so has a gap of all the
# others' events between the demo's and these.
_BULK_EVENTS = text(
    "INSERT INTO audit_pending_reads (occurred_at, client_id, organisation_id, action, "
    "object_type, object_id, inspection_id, child_id, request_id, detail) "
    "SELECT now(), NULL, NULL, 'list.read', 'list', 'children-in-need', "
    "CASE WHEN (n - 1) * 100 / :total = 99 THEN CAST(:inspection AS uuid) ELSE "
    "('00000000-0000-4000-8000-' || lpad(((n - 1) * 100 / :total)::text, 12, '0'))::uuid "
    "END, NULL, NULL, '{\"rows\": 100}'::json "
    "FROM generate_series(:first + 1, :first + :count) AS n"
)
# Where the inspection's last ``:last`` events (so far) start: a page's ``after_seq``.
_LAST_EVENTS_AFTER = text(
    "SELECT coalesce(min(seq), 1) - 1 FROM (SELECT seq FROM audit_events "
    "WHERE inspection_id = CAST(:inspection AS uuid) ORDER BY seq DESC LIMIT :last) AS latest"
)
_LOAD_CHUNK = 1_000_000


@dataclass
class Side:
    """One of the two services, and where its inspection's trail had got to before growth."""

    base: str
    lead: str  # a lead inspector's token
    inspection: str
    database_url: str
    before_growth: int = 0  # after_seq of the inspection's last 10 events then


def _times(client: httpx.Client, url: str, requests: int) -> list[float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url).raise_for_status()
        times.append(time.perf_counter() - started)
    return times


def _reads(side: Side, requests: int) -> dict[str, list[float]]:
    """Seconds each request of each read took on one side, ``requests`` of each."""
    root = f"{side.base}/v1/inspections/{side.inspection}"
    urls = {
        "page of a list": f"{root}/lists/children-in-need?limit=100",
        "child across lists": f"{root}/children/DEMO001",
        "progress view": f"{root}/progress",
        "audit page, first": f"{root}/audit?limit=100",
        # 20 rows from the inspection's last 10 before the growth: on the big side the next
        # ten are 99% of --events further on in the chain (past the others' spells).
        "audit page, gap": f"{root}/audit?limit=20&after_seq={side.before_growth}",
    }
    with httpx.Client(headers={"Authorization": f"Bearer {side.lead}"}, timeout=120) as client:
        times = {name: _times(client, url, requests) for name, url in urls.items()}
        # Asked for after the first audit pages, which linked this round's reads (audit pages
        # add no events, so the page holds 100 rows on either side while it is timed).
        latest = _last_events_after(side, 100)
        latest_url = f"{root}/audit?limit=100&after_seq={latest}"
        times["audit page, latest"] = _times(client, latest_url, requests)
    return times


def _last_events_after(side: Side, last: int) -> int:
    """The ``after_seq`` of the inspection's last ``last`` events linked so far."""
    engine = create_engine(side.database_url)
    with engine.connect() as connection:
        query = {"inspection": side.inspection, "last": last}
        after = connection.execute(_LAST_EVENTS_AFTER, query).scalar_one()
    engine.dispose()
    return int(after)


def _before_growth(side: Side) -> None:
    """Link what is pending, then note where the inspection's last 10 events start."""
    engine = create_engine(side.database_url)
    with session_scope(make_session_factory(engine)) as session:
        while chain_pending(session) > 0:
            pass
    engine.dispose()
    side.before_growth = _last_events_after(side, 10)


def _alternating_reads(
    small: Side, big: Side, requests: int, rounds: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Medians in ms of each read on each side, measured in ``rounds`` alternating rounds of
    ``requests`` each: the load other work puts on this machine comes and goes in minutes,
    and a side measured minutes after the other took that change for its own."""
    times: dict[str, dict[str, list[float]]] = {"small": {}, "big": {}}
    for _ in range(rounds):
        for name, side in (("small", small), ("big", big)):
            for read, taken in _reads(side, requests).items():
                times[name].setdefault(read, []).extend(taken)
    small_ms, big_ms = (
        {read: statistics.median(taken) * 1000 for read, taken in times[name].items()}
        for name in ("small", "big")
    )
    return small_ms, big_ms


def _load(database_url: str, events: int, inspection: str) -> float:
    """Queue ``events`` pending reads by SQL alone, a million per transaction; seconds taken.

    Made by the server (generate_series) rather than sent by COPY: the rows are synthetic, and
    nothing in Python need touch them before the sequencer does."""
    engine = create_engine(database_url)
    started = time.perf_counter()
    for first in range(0, events, _LOAD_CHUNK):
        with engine.begin() as connection:
            count = min(_LOAD_CHUNK, events - first)
            spells = {"first": first, "count": count, "total": events}
            connection.execute(_BULK_EVENTS, {**spells, "inspection": inspection})
    engine.dispose()
    return time.perf_counter() - started


def _link(database_url: str, events: int, batch: int) -> tuple[float, float]:
    """Link every pending read, ``batch`` per transaction, as the sequencer does; prints the
    rate every tenth of the way (it must not fall as the chain grows). Seconds taken, and
    this process's CPU seconds per event it linked (the machine is shared: the wall rate
    follows its load; the served app's own sequencer links some of the events meanwhile)."""
    engine = create_engine(database_url)
    factory = make_session_factory(engine)
    started, cpu = time.perf_counter(), time.process_time()
    lap, linked, since_lap = started, 0, 0
    while True:
        with session_scope(factory) as session:
            taken = chain_pending(session, batch)
        linked, since_lap = linked + taken, since_lap + taken
        if since_lap >= max(events // 10, batch) or (taken < batch and since_lap):
            now = time.perf_counter()
            print(f"  linked {linked:>10}: {since_lap / (now - lap):8.0f} events/s", flush=True)
            lap, since_lap = now, 0
        if taken < batch:
            break
    seconds, cpu_each = time.perf_counter() - started, (time.process_time() - cpu) / max(linked, 1)
    engine.dispose()
    _as_autovacuum_would(database_url)
    return seconds, cpu_each


def _as_autovacuum_would(database_url: str) -> None:
    """A server with autovacuum off (this development machine's) keeps the queue's dead rows
    for ever, and each sequencer run (every audit page starts one) reads through them; nor
    does it count the chain's rows, so the planner plans for a table it has never seen.
    Vacuum the queue (as autovacuum would after 10,000 rows, migration av1) and analyse the
    chain (as it would after a tenth of its rows), on either side alike."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        autovacuum = connection.execute(text("SHOW autovacuum")).scalar_one()
    if autovacuum != "on":
        started = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE audit_pending_reads"))
            connection.execute(text("ANALYZE audit_events"))
        seconds = time.perf_counter() - started
        print(f"  autovacuum is off: the queue vacuumed, the chain analysed in {seconds:.1f} s")
    engine.dispose()


def _grow(
    database_url: str, events: int, inspection: str, batch: int = 10_000
) -> tuple[float, float, float]:
    """``events`` more events in the chain, a hundredth of them ``inspection``'s: seconds to
    queue them, seconds to link them and the CPU seconds this process spent linking each."""
    return _load(database_url, events, inspection), *_link(database_url, events, batch)


Timed = tuple[float, float, dict[str, Any]]  # jtai's seconds, the service's, the verdict


def _verify(env: dict[str, str], database_url: str, *flags: str, rounds: int = 3) -> Timed:
    """Medians of ``rounds``: `jtai audit verify` wall time (a process start included), and
    the service function alone, in this process; and the verdict."""
    cli, service, verdict = [], [], {}
    engine = create_engine(database_url)
    factory = make_session_factory(engine)
    for _ in range(rounds):
        started = time.perf_counter()
        verdict = json.loads(jtai(["audit", "verify", *flags], env))
        cli.append(time.perf_counter() - started)
        started = time.perf_counter()
        with session_scope(factory) as session:
            verify_chain(session, full=bool(flags))
        service.append(time.perf_counter() - started)
        if not verdict["valid"]:
            raise SystemExit(f"the chain does not verify: {verdict}")
    engine.dispose()
    return statistics.median(cli), statistics.median(service), verdict


def _verify_after_anchor(
    env: dict[str, str], database_url: str, events: int, inspection: str
) -> Timed:
    """An anchor, ``events`` more events, then the default verify (from that anchor)."""
    jtai(["audit", "anchor"], env)
    _grow(database_url, events, inspection)
    return _verify(env, database_url)


def _print_verify(small: Timed, big: Timed, full: Timed | None) -> None:
    (small_s, small_f, small_v), (big_s, big_f, big_v) = small, big
    print(
        f"jtai audit verify from the last anchor ({small_v['events_checked']} events after it): "
        f"chain of {small_v['head_seq']} {small_s:6.2f} s; chain of {big_v['head_seq']} "
        f"({big_v['events_checked']} after it) {big_s:6.2f} s  ratio {big_s / small_s:5.2f}x "
        "(target ~1x: proportional to the events since the anchor)"
    )
    print(
        f"  the service function alone: {small_f * 1000:7.1f} ms vs {big_f * 1000:7.1f} ms  "
        f"ratio {big_f / small_f:5.2f}x"
    )
    if full is None:
        return
    full_s, full_f, full_v = full
    print(
        f"jtai audit verify --full on the chain of {full_v['head_seq']}: {full_s:6.2f} s "
        f"({full_v['events_checked']} events checked, "
        f"{full_v['events_checked'] / full_f:.0f} a second; the function alone {full_f:6.2f} s)"
        f"  ratio to from-anchor on the same chain {full_s / big_s:5.2f}x "
        f"(function alone {full_f / big_f:5.2f}x), to from-anchor on the small one "
        f"{full_s / small_s:5.2f}x"
    )


def _side(service: DemoService) -> Side:
    inspection = service.world["inspections"]["mental-health"]
    lead = token(service.base, service.world["clients"]["lead_inspector"])
    return Side(service.base, lead, inspection, service.database_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--after-anchor", type=int, default=1_000)
    parser.add_argument(
        "--link-batch", type=int, default=10_000, help="pending reads linked per transaction"
    )
    parser.add_argument("--requests", type=int, default=10, help="of each read, each round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of reads")
    parser.add_argument("--no-full", action="store_true", help="no `verify --full` (minutes)")
    parser.add_argument("--inspections", type=int, default=0, help="other inspections to make")
    parser.add_argument("--lists", type=int, default=8, help="lists in each of them")
    parser.add_argument("--rows", type=int, default=5_000, help="rows in each list")
    options = parser.parse_args()
    with demo_service() as small_service, demo_service() as big_service:
        small, big = _side(small_service), _side(big_service)
        for side in (small, big):
            _reads(side, 25)  # warm up, and 100 reads in the inspection's trail on each side
        inspection, big_url = big.inspection, big_service.database_url
        small_verify = _verify_after_anchor(
            small_service.env, small_service.database_url, options.after_anchor, small.inspection
        )
        _as_autovacuum_would(small_service.database_url)
        for side in (small, big):
            _before_growth(side)
        loaded, linked, cpu = _grow(big_url, options.events, inspection, options.link_batch)
        built = grow_inspections(
            big_url, big_service.scratch, options.inspections, options.lists, options.rows
        )
        small_reads, big_reads = _alternating_reads(small, big, options.requests, options.rounds)
        big_verify = _verify_after_anchor(
            big_service.env, big_url, options.after_anchor, inspection
        )
        # One round: on millions of events it is minutes, and the figure is for scale.
        full_verify = (
            None if options.no_full else _verify(big_service.env, big_url, "--full", rounds=1)
        )
    print(
        f"{options.events} events queued in {loaded:.1f} s ({options.events / loaded:.0f} a "
        f"second), linked in {linked:.1f} s ({options.events / linked:.0f} events a second, "
        f"{options.link_batch} a transaction; {cpu * 1e6:.0f} us of the linking "
        "process's CPU an event)"
    )
    if options.inspections:
        print(
            f"{options.inspections} other inspections with {options.lists} lists of "
            f"{options.rows} rows made in {built:.1f} s"
        )
    print(
        f"reads: medians of {options.requests * options.rounds}, in {options.rounds} "
        f"alternating rounds; the inspection's events: {options.events // 100} more on the big "
        f"side; load average {os.getloadavg()[0]:.1f} at the end"
    )
    for name, before in small_reads.items():
        ratio = big_reads[name] / before
        print(
            f"{name:<20} small {before:7.1f} ms  big {big_reads[name]:7.1f} ms  "
            f"ratio {ratio:5.2f}x (target <= 1.5x)"
        )
    _print_verify(small_verify, big_verify, full_verify)


if __name__ == "__main__":
    main()
