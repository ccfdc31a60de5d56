"""Subscriptions, events and workers for delivery tests, straight through the services."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event, func, select

from app.auth.service import principal_for_client
from app.core.database import session_scope
from app.events.delivery import Deliverer, DeliveryConfig
from app.events.models import Event
from app.events.outbox import START, Audience, emit, settled_after
from app.webhooks.address import AddressRules
from app.webhooks.models import Webhook, WebhookDelivery
from app.webhooks.service import NewWebhook, create_webhook
from tests.factories import Actor, World

OPEN = AddressRules(allow_insecure=True, allow_private=True)
FAST = DeliveryConfig(
    rules=OPEN,
    lease_seconds=30,
    retry_base_seconds=0.05,
    retry_for_seconds=3600,
    concurrency=4,
    poll_seconds=0.05,
    per_organisation=4,
)


def worker(app: FastAPI, name: str | None = None, **changes: object) -> Deliverer:
    config = dataclasses.replace(FAST, **changes)  # type: ignore[arg-type]
    return Deliverer(app.state.jtai.session_factory, config, name=name)


def subscribe(app: FastAPI, actor: Actor, url: str, *types: str) -> tuple[uuid.UUID, str]:
    with session_scope(app.state.jtai.session_factory) as session:
        principal = principal_for_client(session, actor.client_id)
        new = NewWebhook(url, list(types or ("request.opened",)))
        webhook, secret = create_webhook(session, principal, new, OPEN)
        return webhook.id, secret


def emit_events(
    app: FastAPI,
    inspection_id: uuid.UUID,
    count: int,
    audience: Audience,
    event_type: str = "request.opened",
) -> list[str]:
    """``count`` events, each in a transaction of its own; their webhook-ids, in order."""
    ids = []
    for _ in range(count):
        resource = uuid.uuid4()
        with session_scope(app.state.jtai.session_factory) as session:
            emit(
                session,
                event_type,
                inspection_id=inspection_id,
                resource_type="document_request",
                resource_id=resource,
                url=f"/v1/requests/{resource}",
                audience=audience,
            )
            session.flush()
        ids.append(resource)
    wait_settled(app)
    return [_webhook_id(app, resource) for resource in ids]


def emit_many(
    app: FastAPI, world: World, count: int, event_type: str = "request.opened"
) -> list[str]:
    """``count`` events to the council, a hundred to a transaction; their webhook-ids."""
    audience = Audience(organisations=(world.agency.organisation_id,))
    with session_scope(app.state.jtai.session_factory) as session:
        before = session.execute(select(func.max(Event.id))).scalar_one_or_none() or 0
    for start in range(0, count, 100):
        with session_scope(app.state.jtai.session_factory) as session:
            for _ in range(min(100, count - start)):
                resource = uuid.uuid4()
                emit(
                    session,
                    event_type,
                    inspection_id=world.inspection_id,
                    resource_type="document_request",
                    resource_id=resource,
                    url=f"/v1/requests/{resource}",
                    audience=audience,
                )
    wait_settled(app)
    with session_scope(app.state.jtai.session_factory) as session:
        ids = session.execute(
            select(Event.id).where(Event.id > before).order_by(Event.id)
        ).scalars()
        return [f"evt_{each}" for each in ids]


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    """The SQL the app's engine runs meanwhile."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = app.state.jtai.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def wait_settled(app: FastAPI, within: float = 20.0) -> None:
    """On PostgreSQL an event is read once every older transaction has ended, on the whole
    server (other databases' tests too): wait for that rather than race it."""
    deadline = time.monotonic() + within
    while True:
        with session_scope(app.state.jtai.session_factory) as session:
            every = session.execute(select(func.count()).select_from(Event)).scalar_one()
            settled = session.execute(
                select(func.count()).select_from(Event).where(*settled_after(session, START))
            ).scalar_one()
        if every == settled:
            return
        assert time.monotonic() < deadline, "events never settled"
        time.sleep(0.02)


def _webhook_id(app: FastAPI, resource: uuid.UUID) -> str:
    with session_scope(app.state.jtai.session_factory) as session:
        event = session.execute(
            select(Event).where(Event.resource_id == str(resource))
        ).scalar_one()
        return f"evt_{event.id}"


def attempts(app: FastAPI, webhook_id: uuid.UUID) -> list[WebhookDelivery]:
    with session_scope(app.state.jtai.session_factory) as session:
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookDelivery.id)
        )
        return list(session.execute(query).scalars())


def webhook_row(app: FastAPI, webhook_id: uuid.UUID) -> Webhook:
    with session_scope(app.state.jtai.session_factory) as session:
        row = session.get(Webhook, webhook_id)
        assert row is not None
        return row
