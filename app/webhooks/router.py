from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import authorize
from app.auth.principal import Principal
from app.core.deps import AppSettings, DbSession
from app.core.edge import edge
from app.core.errors import error_responses
from app.webhooks import service
from app.webhooks.address import address_rules
from app.webhooks.models import Webhook
from app.webhooks.schemas import DeliveryRead, PingSent, WebhookCreated, WebhookRead, WebhookWrite

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
NOT_REPLAYABLE = (
    "The first answer to this key held the webhook's signing secret, which is shown once and "
    "never kept for replay; delete the webhook and subscribe again if it was lost."
)


@router.post(
    "",
    status_code=201,
    response_model=WebhookCreated,
    responses=error_responses(401, 403, 422),
    summary="Subscribe a URL to the organisation's events; the signing secret is shown once",
    description=(
        "The webhook receives, signed per Standard Webhooks, the events of the given types "
        "that the subscribing client may read. The URL must be https and resolve to public "
        "addresses only (422 `webhook_url_refused`)."
    ),
)
@edge(not_replayable=NOT_REPLAYABLE)
def create_webhook(
    body: WebhookWrite,
    session: DbSession,
    settings: AppSettings,
    principal: Principal = authorize("create_webhook"),
) -> WebhookCreated:
    new = service.NewWebhook(body.url, body.event_types)
    webhook, secret = service.create_webhook(session, principal, new, address_rules(settings))
    return WebhookCreated(**_read(webhook).model_dump(), secret=secret)


def _read(webhook: Webhook) -> WebhookRead:
    return WebhookRead.model_validate(webhook)


@router.get(
    "",
    response_model=list[WebhookRead],
    responses=error_responses(401, 403),
    summary="The organisation's webhooks",
)
def list_webhooks(
    session: DbSession, principal: Principal = authorize("list_webhooks")
) -> list[WebhookRead]:
    return [_read(webhook) for webhook in service.list_webhooks(session, principal)]


@router.get(
    "/{webhook_id}",
    response_model=WebhookRead,
    responses=error_responses(401, 403, 404),
    summary="One of the organisation's webhooks",
)
def get_webhook(
    webhook_id: uuid.UUID, session: DbSession, principal: Principal = authorize("get_webhook")
) -> WebhookRead:
    return _read(service.get_webhook(session, principal, webhook_id))


@router.delete(
    "/{webhook_id}",
    status_code=204,
    responses=error_responses(401, 403, 404),
    summary="End a subscription: nothing more is delivered to it",
)
def delete_webhook(
    webhook_id: uuid.UUID, session: DbSession, principal: Principal = authorize("delete_webhook")
) -> None:
    service.delete_webhook(session, principal, webhook_id)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=list[DeliveryRead],
    responses=error_responses(401, 403, 404),
    summary="The webhook's delivery attempts, newest first",
)
def list_webhook_deliveries(
    webhook_id: uuid.UUID,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    principal: Principal = authorize("list_webhook_deliveries"),
) -> list[DeliveryRead]:
    rows = service.list_deliveries(session, principal, webhook_id, limit)
    return [
        DeliveryRead(
            event_id=f"evt_{row.event_id}",
            event_type=row.event_type,
            attempt=row.attempt,
            outcome=row.outcome,
            status_code=row.status_code,
            error=row.error,
            attempted_at=row.attempted_at,
            next_attempt_at=row.next_attempt_at,
        )
        for row in rows
    ]


@router.post(
    "/{webhook_id}/ping",
    status_code=202,
    response_model=PingSent,
    responses=error_responses(401, 403, 404),
    summary="Send a webhook.ping event to this webhook only",
)
def ping_webhook(
    webhook_id: uuid.UUID, session: DbSession, principal: Principal = authorize("ping_webhook")
) -> PingSent:
    return PingSent(webhook_id=service.ping(session, principal, webhook_id).id)
