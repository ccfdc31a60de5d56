"""Subscribing, reading and ending an organisation's webhooks, their deliveries, and pings.

A webhook belongs to its organisation (another organisation's answers 404) and hears exactly
what the client that created it would read in the feed (app.events.feed), of the types it
asked for. Only systems subscribe: a person's sign-in is not a standing integration.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.principal import Principal, PrincipalKind
from app.auth.roles import Role
from app.core.database import utcnow
from app.core.errors import Forbidden, InvalidContent, NotFound, ProblemItem
from app.events.models import Event
from app.events.outbox import START, Audience, Position, emit
from app.events.types import EVENT_TYPES, PING
from app.webhooks.address import AddressRefused, AddressRules, resolve
from app.webhooks.models import Webhook, WebhookDelivery

SECRET_BYTES = 32


@dataclass(frozen=True)
class NewWebhook:
    url: str
    event_types: list[str]


def create_webhook(
    session: Session, principal: Principal, new: NewWebhook, rules: AddressRules
) -> tuple[Webhook, str]:
    """Subscribe; the secret is returned this once. Events from now on are delivered."""
    if principal.kind is not PrincipalKind.SYSTEM:
        raise Forbidden(
            "Webhooks are subscribed by systems (client credentials), not people.",
            code="webhooks_for_systems",
        )
    event_types = _checked_types(new.event_types)
    try:
        resolve(new.url, allow_insecure=rules.allow_insecure, allow_private=rules.allow_private)
    except AddressRefused as exc:
        item = ProblemItem(field="url", code="webhook_url_refused", message=str(exc))
        raise InvalidContent(
            f"The webhook URL is refused: {exc}.", code="webhook_url_refused", errors=[item]
        ) from None
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")
    latest = _latest_position(session)
    webhook = Webhook(
        id=uuid.uuid4(),
        organisation_id=principal.organisation_id,
        owner_client_id=principal.client_id,
        url=new.url,
        event_types=event_types,
        secret=secret,
        cursor_id=latest.id,
    )
    session.add(webhook)
    session.flush()
    audit.record(
        session, principal, "webhook.created", "webhook", webhook.id, detail={"types": event_types}
    )
    return webhook, secret


def _checked_types(requested: Sequence[str]) -> list[str]:
    problems = [
        ProblemItem(
            field=f"event_types.{index}",
            code="unknown_event_type",
            message=f"'{name}' is not an event type; known: {', '.join(EVENT_TYPES)}",
            value=name[:64],
        )
        for index, name in enumerate(requested)
        if name not in EVENT_TYPES
    ]
    if problems:
        unknown = ", ".join(repr(item.value) for item in problems)
        raise InvalidContent(
            f"Unknown event types: {unknown}.", code="unknown_event_type", errors=problems
        )
    return list(dict.fromkeys(requested))


def _latest_position(session: Session) -> Position:
    """Where a new subscription starts: after every event written so far."""
    newest = session.execute(select(func.max(Event.id))).scalar_one_or_none()
    return START if newest is None else Position(newest)


def list_webhooks(session: Session, principal: Principal) -> Sequence[Webhook]:
    """The caller's own webhooks; an organisation's administrator sees all of its
    organisation's (to retire an integration), never their deliveries."""
    query = select(Webhook).where(
        Webhook.organisation_id == principal.organisation_id, Webhook.deleted_at.is_(None)
    )
    if not _administers(principal):
        query = query.where(Webhook.owner_client_id == principal.client_id)
    return session.execute(query.order_by(Webhook.created_at, Webhook.id)).scalars().all()


def _administers(principal: Principal) -> bool:
    return Role.ORG_ADMIN in principal.roles


def get_webhook(
    session: Session, principal: Principal, webhook_id: uuid.UUID, *, owner_only: bool = False
) -> Webhook:
    """A webhook is its subscribing client's: it hears what that client may read, and its
    delivery log shows as much. Another client of the same organisation (an inspector off the
    team, say) gets 404 as if it did not exist; the organisation's administrator may see and
    delete it, but not read its deliveries or ping it (``owner_only``)."""
    webhook = session.get(Webhook, webhook_id)
    if (
        webhook is None
        or webhook.deleted_at is not None
        or webhook.organisation_id != principal.organisation_id
    ):
        raise NotFound("No such webhook.")
    is_owner = webhook.owner_client_id == principal.client_id
    if not is_owner and (owner_only or not _administers(principal)):
        raise NotFound("No such webhook.")
    return webhook


def delete_webhook(session: Session, principal: Principal, webhook_id: uuid.UUID) -> None:
    """Nothing more is delivered; the secret is forgotten. Its deliveries stay on record."""
    webhook = get_webhook(session, principal, webhook_id)
    webhook.deleted_at = utcnow()
    webhook.secret = ""
    audit.record(session, principal, "webhook.deleted", "webhook", webhook.id)


def list_deliveries(
    session: Session, principal: Principal, webhook_id: uuid.UUID, limit: int
) -> Sequence[WebhookDelivery]:
    """The webhook's delivery attempts, newest first: its owner's only (they name events)."""
    webhook = get_webhook(session, principal, webhook_id, owner_only=True)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return session.execute(query).scalars().all()


def ping(session: Session, principal: Principal, webhook_id: uuid.UUID) -> Webhook:
    """A ``webhook.ping`` event for this webhook only: no feed and no other webhook hears of
    it (it names no recipient). It is written when the transaction commits."""
    webhook = get_webhook(session, principal, webhook_id, owner_only=True)
    emit(
        session,
        PING,
        inspection_id=None,
        resource_type="webhook",
        resource_id=webhook.id,
        url=f"/v1/webhooks/{webhook.id}",
        audience=Audience(),
    )
    audit.record(session, principal, "webhook.pinged", "webhook", webhook.id)
    return webhook
