"""Several workers, each with its own engine as in its own process, on one database: every
event once per subscription, in order."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from fastapi import FastAPI

from app.core.database import make_engine, make_session_factory
from app.events.delivery import Deliverer
from tests.factories import World
from tests.webhooks.helpers import FAST, emit_many, subscribe
from tests.webhooks.receiver import eventually, receiving

EVENTS = 1000
SUBSCRIPTIONS = 2


@pytest.mark.commits
def test_two_workers_deliver_a_thousand_events_once_each(
    app: FastAPI, world: World, database_url: str
) -> None:
    engines = [make_engine(database_url) for _ in range(2)]
    # One subscription at a time each: both workers must take part.
    one_at_a_time = dataclasses.replace(FAST, concurrency=1)
    stop = threading.Event()
    with receiving() as a, receiving() as b, receiving() as c:
        receivers = [a, b, c][:SUBSCRIPTIONS]
        for receiver in receivers:
            subscribe(app, world.agency, receiver.url)
        sent = emit_many(app, world, EVENTS)
        workers = [
            Deliverer(make_session_factory(engine), one_at_a_time, name=f"worker-{n}")
            for n, engine in enumerate(engines)
        ]
        threads = [threading.Thread(target=w.run, args=(stop,)) for w in workers]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        try:
            eventually(lambda: all(len(r.requests) >= EVENTS for r in receivers), within=60)
            time.sleep(0.3)  # anything sent twice would arrive by now
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=15)
            for engine in engines:
                engine.dispose()
        elapsed = time.monotonic() - started
    for receiver in receivers:
        assert receiver.accepted_ids() == sent  # in order, once each
    assert all(worker.delivered > 0 for worker in workers), [w.delivered for w in workers]
    assert sum(worker.delivered for worker in workers) == EVENTS * SUBSCRIPTIONS
    print(f"{EVENTS * SUBSCRIPTIONS} deliveries in {elapsed:.1f} s")
