"""Benchmark: what a webhook worker reads to find a subscription's next events.

Baseline: the way delivery read until the feed's query took the webhook's types and pings: a
page of 200 of everything the owner hears of, the types filtered in Python, the pings by a
second query and the newest settled event by a third, page by page. Now: one statement
(app.events.feed.webhook_events). Both read the same rows of the same database, in
alternating rounds, in read-only transactions (no cursor moves).

Two cases, for a subscription of the council that wants a type nobody emits (an idle one):
one new event since its cursor (what every event costs every idle subscription), and 1,000
events behind (a worker back after downtime).

Run: .venv/bin/python scripts/bench_webhook_reads.py [--rounds 15]
Needs PostgreSQL (JTAI_TEST_POSTGRES_URL, default 127.0.0.1:5432 as postgres).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi import FastAPI
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.core.database import session_scope
from app.events.delivery import _reader
from app.events.feed import EventReader, Wanted, visible_events, webhook_events
from app.events.models import Event
from app.events.outbox import ORDER, Position, settled_after
from app.events.types import PING
from scripts.bench.common import scratch_database, webhook_bench_app
from tests.factories import Factory
from tests.webhooks.helpers import emit_many, subscribe

PAGE, BATCH = 200, 50
Reads = Callable[[Session, EventReader, Position, Wanted], list[Event]]


def baseline(session: Session, reader: EventReader, after: Position, wanted: Wanted) -> list[Event]:
    """The former app.events.delivery._next_events, less its cursor write."""
    while True:
        newest = session.execute(
            select(func.max(Event.id)).where(*settled_after(session, after))
        ).scalar_one_or_none()
        if newest is None:
            return []
        page = visible_events(session, reader, after, PAGE)
        found = [each for each in page if each.event_type in wanted.types]
        pings = list(
            session.execute(
                select(Event)
                .where(
                    *settled_after(session, after),
                    Event.event_type == PING,
                    Event.resource_id == wanted.pings_of,
                )
                .order_by(*ORDER)
                .limit(BATCH)
            ).scalars()
        )
        if len(page) == PAGE:
            pings = [ping for ping in pings if Position.of(ping) <= Position.of(page[-1])]
        found = sorted(found + pings, key=Position.of)[:BATCH]
        if found or len(page) < PAGE:
            return found
        after = Position.of(page[-1])


def one_statement(
    session: Session, reader: EventReader, after: Position, wanted: Wanted
) -> list[Event]:
    return webhook_events(session, reader, after, BATCH, wanted).events


def _timed(
    app: FastAPI, reads: Reads, reader: EventReader, after: Position, wanted: Wanted
) -> tuple[float, int]:
    """Seconds and statements to find that the subscription wants nothing."""
    statements: list[str] = []
    engine = app.state.jtai.engine

    def note(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", note)
    try:
        with session_scope(app.state.jtai.session_factory) as session:
            started = time.perf_counter()
            found = reads(session, reader, after, wanted)
            elapsed = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert found == [], "the subscription is idle"
    return elapsed, len(statements)


def run(database_url: str, scratch: Path, rounds: int) -> None:
    app = webhook_bench_app(database_url, scratch)
    world = Factory(app).world()
    webhook_id, _ = subscribe(app, world.agency, "http://127.0.0.1:9/hook", "list.pushed")
    sent = emit_many(app, world, 1000)
    first, last = int(sent[0][4:]), int(sent[-1][4:])
    wanted = Wanted(frozenset({"list.pushed"}), str(webhook_id))
    with session_scope(app.state.jtai.session_factory) as session:
        reader = _reader(session, world.agency.client_id)
    assert reader is not None
    cases = {"one new event": Position(last - 1), "1,000 behind": Position(first - 1)}
    for case, after in cases.items():
        times: dict[str, list[float]] = {"baseline": [], "one statement": []}
        counts: dict[str, int] = {}
        for index in range(rounds):
            order = [("baseline", baseline), ("one statement", one_statement)]
            for name, reads in order if index % 2 == 0 else order[::-1]:
                elapsed, counts[name] = _timed(app, reads, reader, after, wanted)
                times[name].append(elapsed)
        base = statistics.median(times["baseline"])
        new = statistics.median(times["one statement"])
        print(f"{case}:")
        for name in times:
            median = statistics.median(times[name])
            print(f"  {name:14} median {median * 1000:7.2f} ms  statements {counts[name]}")
        print(f"  one statement / baseline: {new / base:.2f}")
    app.state.jtai.engine.dispose()
    print(f"({rounds} alternating rounds; shared 2-core machine: see uptime)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, scratch_database() as database_url:
        run(database_url, Path(scratch), arguments.rounds)


if __name__ == "__main__":
    main()
