"""One organisation's slow receivers do not hold every delivery slot: another organisation's
receivers keep being served (JTAI_WEBHOOK_CONCURRENCY_PER_ORGANISATION)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from fastapi import FastAPI

from app.events.outbox import Audience
from tests.factories import Factory, World
from tests.webhooks.helpers import emit_events, subscribe, worker
from tests.webhooks.receiver import eventually, receiving

pytestmark = pytest.mark.commits
SLOW_SECONDS = 4.0


def test_a_slow_organisation_leaves_slots_to_another(
    app: FastAPI, world: World, factory: Factory
) -> None:
    """The council's four webhooks answer in four seconds; with four slots and a share of
    two, the police's webhook is served at once. (Without a share, all four slots are the
    council's until its receivers answer.)"""
    police = factory.actor_in(world, "police")
    council = Audience(organisations=(world.agency.organisation_id,))
    to_police = Audience(organisations=(police.organisation_id,))
    with receiving(delay=SLOW_SECONDS) as slow, receiving() as fast:
        for _ in range(4):
            subscribe(app, world.agency, slow.url)
        subscribe(app, police, fast.url)
        emit_events(app, world.inspection_id, 1, council)
        stop = threading.Event()
        fair = worker(app, concurrency=4, per_organisation=2)
        running = threading.Thread(target=fair.run, args=(stop,))
        running.start()
        try:
            eventually(lambda: slow.at_once >= 2, within=5)
            time.sleep(0.3)  # time enough to claim more, had the worker a mind to
            started = time.monotonic()
            sent = emit_events(app, world.inspection_id, 1, to_police)
            eventually(lambda: fast.accepted_ids() == sent, within=SLOW_SECONDS - 1.5)
            assert time.monotonic() - started < SLOW_SECONDS - 1.5
            assert slow.at_once == 2
            # The council's others are served as its slots free up.
            eventually(lambda: len(slow.accepted()) == 4, within=3 * SLOW_SECONDS)
        finally:
            stop.set()
            running.join(timeout=3 * SLOW_SECONDS)
    assert slow.most_at_once == 2


def test_a_claim_takes_no_more_than_an_organisations_share(
    app: FastAPI, world: World, factory: Factory
) -> None:
    police = factory.actor_in(world, "police")
    with receiving() as receiver:
        council_hooks = {subscribe(app, world.agency, receiver.url)[0] for _ in range(3)}
        police_hooks = {subscribe(app, police, receiver.url)[0] for _ in range(3)}
        emit_events(
            app, world.inspection_id, 1, Audience(organisations=(world.agency.organisation_id,))
        )
        emit_events(app, world.inspection_id, 1, Audience(organisations=(police.organisation_id,)))
        fair = worker(app, per_organisation=2)
        first = fair.claim_fairly(10, Counter({world.agency.organisation_id: 1}))
        by_organisation = Counter(organisation for _, organisation in first)
        assert by_organisation == {world.agency.organisation_id: 1, police.organisation_id: 2}
        assert {hook for hook, _ in first} <= council_hooks | police_hooks
        # What was left is claimed next, each organisation's share again.
        second = fair.claim_fairly(10, Counter())
        assert Counter(organisation for _, organisation in second) == {
            world.agency.organisation_id: 2,
            police.organisation_id: 1,
        }
        assert fair.claim(10) == []
