"""Benchmark: events from commit to 10 webhook receivers, beside the API's own write rate.

Issue 17 asks how fast events reach subscribers (p50, p99 from the write's commit to the
receiver) with 10 subscribers, and that writing events costs the write path under 10 %.

On a scratch PostgreSQL database, in one process: the app (through its ASGI test client, so
requests go through every middleware, the policy and one transaction each), one delivery
worker thread polling every JTAI_WEBHOOK_POLL_SECONDS as `jtai serve` runs it, and 10
receivers on loopback ports, each subscribed by the council to ``meeting.changed``.

The write is POST /v1/inspections/{id}/meetings. Rounds alternate the write with its
``meeting.changed`` event switched off and the write as the service makes it (with the event),
so both see the same table sizes and the same machine load. The events are delivered while
the writes go on.

Run: .venv/bin/python scripts/bench_events.py [--rounds 300] [--poll 0.5]
Needs PostgreSQL (JTAI_TEST_POSTGRES_URL, default 127.0.0.1:5432 as postgres). The machine
is shared: the API, the worker, the receivers and this load run on the same cores, so treat
the figures as rough.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from app.core.database import session_scope
from app.events import audiences
from app.events.delivery import Deliverer, DeliveryConfig
from app.events.outbox import Audience, emit
from scripts.bench.common import scratch_database, webhook_bench_app
from tests.factories import Factory
from tests.webhooks.helpers import subscribe
from tests.webhooks.receiver import Receiver, receiving
from tests.worlds import LONDON

SUBSCRIBERS = 10


class Emitting:
    """The meeting service's ``meeting.changed`` event, written or (switched off) not."""

    def __init__(self) -> None:
        self.on = False
        self.original = audiences.meeting_changed

    def __call__(self, session: Any, inspection_id: Any, meeting_id: Any) -> None:
        if self.on:
            self.original(session, inspection_id, meeting_id)


def _meeting(organisation: str, index: int) -> dict[str, Any]:
    starts = datetime(2027, 4, 5, 9, 0, tzinfo=LONDON) + timedelta(minutes=index)
    return {
        "kind": "strategy-discussion",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(minutes=30)).isoformat(),
        "place": "Town hall",
        "organisation_ids": [organisation],
    }


def _write(client: TestClient, path: str, body: dict[str, Any], headers: Any) -> tuple[float, str]:
    started = time.perf_counter()
    response = client.post(path, json=body, headers=headers)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.json()["id"]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _arrivals(receivers: list[Receiver]) -> list[tuple[str, float]]:
    found = []
    for receiver in receivers:
        for each in receiver.accepted():
            found.append((json.loads(each.body)["resource"]["id"], each.at))
    return found


def _burst(app: Any, inspection_id: Any, receivers: list[Receiver], count: int) -> float:
    """Seconds for the running worker to drain ``count`` events committed in one transaction."""
    before = sum(len(receiver.accepted()) for receiver in receivers)
    with session_scope(app.state.jtai.session_factory) as session:
        for _ in range(count):
            resource = uuid.uuid4()
            emit(
                session,
                "meeting.changed",
                inspection_id=inspection_id,
                resource_type="meeting",
                resource_id=resource,
                url=f"/v1/inspections/{inspection_id}/meetings/{resource}",
                audience=Audience(participants=True),
            )
    started = time.monotonic()
    target = before + count * len(receivers)
    while sum(len(r.accepted()) for r in receivers) < target:
        assert time.monotonic() - started < 300, "burst not drained"
        time.sleep(0.02)
    return time.monotonic() - started


def run(database_url: str, scratch: Path, rounds: int, poll: float) -> None:
    app = webhook_bench_app(database_url, scratch)
    factory = Factory(app)
    world = factory.world()
    emitting = Emitting()
    audiences.meeting_changed = emitting  # type: ignore[assignment]
    config = DeliveryConfig.of(
        app.state.jtai.settings.model_copy(
            # All ten are the council's: let it have every slot, as before organisations had
            # a share (JTAI_WEBHOOK_CONCURRENCY_PER_ORGANISATION), to measure the same thing.
            update={
                "webhook_poll_seconds": poll,
                "webhook_concurrency": SUBSCRIBERS,
                "webhook_concurrency_per_organisation": SUBSCRIBERS,
            }
        )
    )
    stop = threading.Event()
    with ExitStack() as stack, TestClient(app) as client:
        receivers = [stack.enter_context(receiving()) for _ in range(SUBSCRIBERS)]
        for receiver in receivers:
            subscribe(app, world.agency, receiver.url, "meeting.changed")
        worker = Deliverer(app.state.jtai.session_factory, config)
        thread = threading.Thread(target=worker.run, args=(stop,))
        thread.start()
        path = f"/v1/inspections/{world.inspection_id}/meetings"
        organisation = str(world.agency.organisation_id)
        plain: list[float] = []
        with_event: list[float] = []
        committed: dict[str, float] = {}
        started = time.monotonic()
        for index in range(rounds):
            emitting.on = False
            plain.append(
                _write(client, path, _meeting(organisation, 2 * index), world.agency.headers)[0]
            )
            emitting.on = True
            elapsed, meeting_id = _write(
                client, path, _meeting(organisation, 2 * index + 1), world.agency.headers
            )
            committed[meeting_id] = time.time()
            with_event.append(elapsed)
        writes_done = time.monotonic()
        expected = rounds * SUBSCRIBERS
        while len(_arrivals(receivers)) < expected and time.monotonic() - writes_done < 120:
            time.sleep(0.05)
        arrivals = _arrivals(receivers)
        drained = _burst(app, world.inspection_id, receivers, rounds)
        stop.set()
        thread.join(timeout=20)
    latencies = [at - committed[meeting] for meeting, at in arrivals]
    span = max(at for _, at in arrivals) - min(committed.values())
    write_seconds = writes_done - started
    print(f"writes: {2 * rounds} in {write_seconds:.1f} s = {2 * rounds / write_seconds:.0f}/s")
    print(
        f"  plain write      median {statistics.median(plain) * 1000:6.2f} ms"
        f"  p99 {_percentile(plain, 0.99) * 1000:6.2f} ms"
    )
    print(
        f"  write + event    median {statistics.median(with_event) * 1000:6.2f} ms"
        f"  p99 {_percentile(with_event, 0.99) * 1000:6.2f} ms"
    )
    ratio = statistics.median(with_event) / statistics.median(plain)
    print(f"  cost of emitting: {(ratio - 1) * 100:+.1f} % (median; target < 10 %)")
    print(
        f"deliveries: {len(arrivals)}/{expected} to {SUBSCRIBERS} receivers in {span:.1f} s"
        f" = {len(arrivals) / span:.0f}/s (poll {poll} s)"
    )
    print(
        f"  commit -> receiver  p50 {_percentile(latencies, 0.5) * 1000:7.1f} ms"
        f"  p99 {_percentile(latencies, 0.99) * 1000:7.1f} ms"
    )
    print(
        f"burst: {rounds} events committed at once, drained to {SUBSCRIBERS} receivers in"
        f" {drained:.1f} s = {rounds * SUBSCRIBERS / drained:.0f} deliveries/s"
    )
    print("(shared 2-core machine; API, worker, receivers and load in one process: noisy)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--poll", type=float, default=0.5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, scratch_database() as database_url:
        run(database_url, Path(scratch), arguments.rounds, arguments.poll)


if __name__ == "__main__":
    main()
