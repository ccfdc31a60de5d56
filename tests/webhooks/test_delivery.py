"""Deliveries to a real receiver on a loopback port: signed, in order, once, retried."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook as Verifier
from typer.testing import Result

from app.auth.models import ApiClient
from app.core.config import Settings
from app.core.database import session_scope, utcnow
from app.events.outbox import Audience
from app.main import create_app
from app.organisations.models import Organisation
from app.webhooks.address import AddressRules
from app.webhooks.models import Webhook
from tests.factories import World
from tests.webhooks.helpers import (
    attempts,
    emit_events,
    emit_many,
    statements,
    subscribe,
    webhook_row,
    worker,
)
from tests.webhooks.receiver import eventually, receiving
from tests.worlds import Exchange

pytestmark = pytest.mark.commits


def _to_council(world: World) -> Audience:
    return Audience(organisations=(world.agency.organisation_id,))


def test_a_delivery_verifies_with_the_librarys_verifier(app: FastAPI, world: World) -> None:
    with receiving() as receiver:
        webhook_id, secret = subscribe(app, world.agency, receiver.url)
        [sent] = emit_events(app, world.inspection_id, 1, _to_council(world))
        assert worker(app).run_once() == 1
        [got] = receiver.accepted()
    payload = Verifier(secret).verify(got.body, got.headers)
    assert payload["id"] == sent == got.headers["webhook-id"]
    assert payload["type"] == "request.opened"
    assert payload["inspection_id"] == str(world.inspection_id)
    assert set(payload) == {"id", "type", "occurred_at", "inspection_id", "resource"}
    tampered = got.body.replace(b"request.opened", b"request.closed")
    with pytest.raises(Exception, match="No matching signature"):
        Verifier(secret).verify(tampered, got.headers)
    [attempt] = attempts(app, webhook_id)
    assert (attempt.outcome, attempt.status_code, attempt.attempt) == ("delivered", 204, 1)


def test_a_receiver_down_for_a_while_gets_every_event_in_order_once(
    app: FastAPI, world: World
) -> None:
    with receiving(status=503) as receiver:
        webhook_id, _ = subscribe(app, world.agency, receiver.url)
        sent = emit_events(app, world.inspection_id, 5, _to_council(world))
        deliverer = worker(app)
        for _ in range(4):  # down: the first event is retried, the others wait behind it
            deliverer.run_once()
            time.sleep(0.12)
        assert receiver.accepted_ids() == []
        assert {each.headers["webhook-id"] for each in receiver.requests} == {sent[0]}
        receiver.status = 200
        eventually(lambda: bool(deliverer.run_once() or True) and len(receiver.accepted()) == 5)
        assert receiver.accepted_ids() == sent
    rows = attempts(app, webhook_id)
    assert [row.outcome for row in rows[:2]] == ["retrying", "retrying"]
    assert all(row.next_attempt_at is not None for row in rows if row.outcome == "retrying")
    assert next(row.attempt for row in rows if row.outcome == "delivered") >= 2
    assert [f"evt_{row.event_id}" for row in rows if row.outcome == "delivered"] == sent


def test_a_killed_worker_loses_nothing_and_repeats_only_the_event_in_flight(
    app: FastAPI, world: World
) -> None:
    with receiving() as receiver:
        webhook_id, _ = subscribe(app, world.agency, receiver.url)
        sent = emit_events(app, world.inspection_id, 3, _to_council(world))
        doomed = worker(app, name="doomed", lease_seconds=1)
        assert doomed.claim(10) == [webhook_id]
        [first, *_] = doomed.next_jobs(webhook_id)
        assert doomed.send(first).delivered  # ... and the worker dies before writing it down
        survivor = worker(app, name="survivor")
        assert survivor.claim(10) == []  # the lease still holds
        time.sleep(1.1)
        assert survivor.run_once() == 3
        assert receiver.accepted_ids() == [sent[0], *sent]
        # The dead worker, were it to come back, holds nothing any more.
        assert not doomed.record(webhook_id, first, doomed.send(first))


def test_after_three_days_a_delivery_is_marked_failed_and_the_next_goes(
    app: FastAPI, world: World, client: TestClient
) -> None:
    with receiving(status=500) as receiver:
        webhook_id, _ = subscribe(app, world.agency, receiver.url)
        sent = emit_events(app, world.inspection_id, 2, _to_council(world))
        deliverer = worker(app, retry_for_seconds=0.3)
        eventually(lambda: bool(deliverer.run_once() or True) and _outcomes(app, webhook_id))
        receiver.status = 200
        eventually(lambda: bool(deliverer.run_once() or True) and receiver.accepted_ids() != [])
        assert receiver.accepted_ids() == [sent[1]]
    shown = client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=world.agency.headers).json()
    assert shown[0]["outcome"] == "delivered"
    assert shown[0]["event_id"] == sent[1]
    failed = [row for row in shown if row["outcome"] == "failed"]
    assert [row["event_id"] for row in failed] == [sent[0]]
    assert failed[0]["status_code"] == 500
    assert failed[0]["next_attempt_at"] is None


def _outcomes(app: FastAPI, webhook_id: object) -> bool:
    return "failed" in {row.outcome for row in attempts(app, webhook_id)}  # type: ignore[arg-type]


def test_a_police_subscription_never_hears_of_a_health_request(app: FastAPI, ex: Exchange) -> None:
    health_request = Audience(organisations=(ex.health.organisation_id,), inspectors=True)
    with receiving() as police, receiving() as health, receiving() as inspector:
        subscribe(app, ex.police, police.url)
        subscribe(app, ex.health, health.url)
        subscribe(app, ex.world.inspector, inspector.url)  # on the team
        sent = emit_events(app, ex.world.inspection_id, 2, health_request)
        worker(app, concurrency=1).run_once()
        assert health.accepted_ids() == sent
        assert inspector.accepted_ids() == sent
        assert police.requests == []


def test_only_the_types_asked_for_and_the_webhooks_own_pings(
    app: FastAPI, world: World, client: TestClient
) -> None:
    with receiving() as receiver, receiving() as other:
        webhook_id, _ = subscribe(app, world.agency, receiver.url, "list.pushed")
        subscribe(app, world.agency, other.url, "list.pushed")
        emit_events(app, world.inspection_id, 3, _to_council(world))  # request.opened
        pushed = emit_events(app, world.inspection_id, 1, _to_council(world), "list.pushed")
        ping = client.post(f"/v1/webhooks/{webhook_id}/ping", headers=world.agency.headers)
        assert ping.status_code == 202
        worker(app).run_once()
        [*first, pinged] = receiver.accepted_ids()
        assert first == pushed
        assert pinged.startswith("evt_")
        assert pinged not in pushed
        assert other.accepted_ids() == pushed
        assert json.loads(receiver.accepted()[1].body)["type"] == "webhook.ping"
    # Caught up: the skipped events are behind the cursor, nothing is claimed again.
    assert worker(app).claim(10) == []


def test_one_statement_finds_a_subscriptions_next_events(
    app: FastAPI, world: World, client: TestClient
) -> None:
    """Pings and the types asked for are picked out by the feed's own query: not a page of
    everything the owner hears of filtered here, and a second query for pings, page by page
    (some three queries per subscription, for every event any reader is told of)."""
    with receiving() as receiver:
        webhook_id, _ = subscribe(app, world.agency, receiver.url, "list.pushed")
        emit_many(app, world, 450)  # request.opened: not wanted
        ping = client.post(f"/v1/webhooks/{webhook_id}/ping", headers=world.agency.headers)
        assert ping.status_code == 202
        emit_many(app, world, 450)
        pushed = emit_events(app, world.inspection_id, 1, _to_council(world), "list.pushed")
        deliverer = worker(app)
        assert deliverer.claim(10) == [webhook_id]
        with statements(app) as seen:
            jobs = deliverer.next_jobs(webhook_id)
        [pinged, found] = [job.event for job in jobs]
        assert (pinged.event_type, pinged.resource_id) == ("webhook.ping", str(webhook_id))
        assert f"evt_{found.id}" == pushed[0]
        assert len([each for each in seen if re.search(r"\bFROM events\b", each)]) == 1
        deliverer.release(webhook_id)
        assert deliverer.run_once() == 2
        assert receiver.accepted_ids()[1:] == pushed
        # Caught up: one statement sees nothing more is wanted and moves the cursor on.
        emit_many(app, world, 3)
        assert deliverer.claim(10) == [webhook_id]
        with statements(app) as seen:
            assert deliverer.next_jobs(webhook_id) == []
        assert len([each for each in seen if re.search(r"\bFROM events\b", each)]) == 1
        deliverer.release(webhook_id)
        assert deliverer.claim(10) == []


@pytest.mark.parametrize("disabled", [ApiClient, Organisation])
def test_deliveries_wait_while_the_owner_is_disabled(
    app: FastAPI, world: World, disabled: type[ApiClient] | type[Organisation]
) -> None:
    """The owning client disabled, or its whole organisation (the attacker's pass saw a
    disabled organisation's webhook still told of a request)."""
    owner = world.agency.client_id if disabled is ApiClient else world.agency.organisation_id

    def set_disabled(at: datetime | None) -> None:
        with session_scope(app.state.jtai.session_factory) as session:
            session.execute(update(disabled).where(disabled.id == owner).values(disabled_at=at))

    with receiving() as receiver:
        _webhook_id, _ = subscribe(app, world.agency, receiver.url)
        set_disabled(utcnow())
        sent = emit_events(app, world.inspection_id, 2, _to_council(world))
        assert worker(app).run_once() == 0
        assert receiver.requests == []
        set_disabled(None)
        assert worker(app).run_once() == 2
        assert receiver.accepted_ids() == sent


def test_a_refused_address_at_delivery_is_an_attempt_that_failed(
    app: FastAPI, world: World
) -> None:
    """DNS may change after subscribing: every delivery checks the address again."""
    with receiving() as receiver:
        webhook_id, _ = subscribe(app, world.agency, receiver.url)
        emit_events(app, world.inspection_id, 1, _to_council(world))
        strict = worker(
            app,
            rules=AddressRules(allow_insecure=True, allow_private=False),
            retry_base_seconds=60,
        )
        assert strict.run_once() == 0
        assert receiver.requests == []
    [attempt] = attempts(app, webhook_id)
    assert attempt.outcome == "retrying"
    assert attempt.status_code is None
    assert attempt.error is not None
    # The owner reads this: it must not say what the name resolved to.
    assert attempt.error == "address refused: the host does not resolve to public addresses only"


def test_a_slow_receiver_does_not_hold_up_the_others(app: FastAPI, world: World) -> None:
    with receiving(delay=1.5) as slow, receiving() as fast:
        subscribe(app, world.agency, slow.url)
        subscribe(app, world.agency, fast.url)
        sent = emit_events(app, world.inspection_id, 3, _to_council(world))
        import threading

        stop = threading.Event()
        running = threading.Thread(target=worker(app).run, args=(stop,))
        running.start()
        try:
            eventually(lambda: fast.accepted_ids() == sent, within=1.4)
            assert len(slow.requests) <= 1
        finally:
            stop.set()
            running.join(timeout=10)


def test_a_new_subscription_starts_from_now(app: FastAPI, world: World) -> None:
    emit_events(app, world.inspection_id, 2, _to_council(world))
    with receiving() as receiver:
        webhook_id, _ = subscribe(app, world.agency, receiver.url)
        later = emit_events(app, world.inspection_id, 1, _to_council(world))
        worker(app).run_once()
        assert receiver.accepted_ids() == later
    row = webhook_row(app, webhook_id)
    assert f"evt_{row.cursor_id}" == later[0]
    assert row.lease_owner is None
    assert row.next_attempt_at is None or row.next_attempt_at < utcnow() + timedelta(0)
    assert isinstance(row, Webhook)


def test_jtai_jobs_deliver_runs_a_worker(
    app: FastAPI, world: World, jtai: Callable[..., Result]
) -> None:
    with receiving() as receiver:
        subscribe(app, world.agency, receiver.url)
        sent = emit_events(app, world.inspection_id, 2, _to_council(world))
        fast_retry = {"JTAI_WEBHOOK_RETRY_BASE_SECONDS": "0.01"}
        refused = jtai("jobs", "deliver", "--once", **fast_retry)  # as deployed: no loopback
        assert json.loads(refused.stdout) == {"delivered": 0}
        allowed = fast_retry | {
            "JTAI_WEBHOOK_ALLOW_INSECURE": "true",
            "JTAI_WEBHOOK_ALLOW_PRIVATE": "true",
        }
        delivered = 0
        for _ in range(20):  # the refused attempt's retry is at most 0.01 s away
            result = jtai("jobs", "deliver", "--once", **allowed)
            assert result.exit_code == 0, result.output
            delivered += json.loads(result.stdout)["delivered"]
            if delivered == 2:
                break
            time.sleep(0.02)
        assert delivered == 2
        assert receiver.accepted_ids() == sent


def test_the_service_delivers_by_itself_within_a_second(
    settings: Settings, world: World, app: FastAPI
) -> None:
    """`jtai serve`'s own worker: an idle one looks every JTAI_WEBHOOK_POLL_SECONDS."""
    served = create_app(settings.model_copy(update={"webhook_poll_seconds": 0.5}))
    with receiving() as receiver, TestClient(served):
        subscribe(app, world.agency, receiver.url)
        time.sleep(0.6)  # the worker is idle
        started = time.time()
        sent = emit_events(app, world.inspection_id, 1, _to_council(world))
        eventually(lambda: receiver.accepted_ids() == sent, within=5)
        assert receiver.accepted()[0].at - started < 1.5
    served.state.jtai.engine.dispose()
