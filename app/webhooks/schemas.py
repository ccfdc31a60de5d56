from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from app.core.moments import Instant
from app.events.types import EVENT_TYPES, EventType
from app.webhooks.models import DeliveryOutcome


class WebhookWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=2048,
        description="An https URL whose host resolves to public addresses only",
    )
    event_types: list[str] = Field(
        min_length=1,
        max_length=len(EVENT_TYPES),
        description="Which events to receive: " + ", ".join(EVENT_TYPES),
    )


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    event_types: list[EventType]
    created_at: Instant
    owner_client_id: uuid.UUID = Field(
        description="The client that subscribed: the webhook hears what it may read"
    )


class WebhookCreated(WebhookRead):
    secret: str = Field(
        description="The signing secret (Standard Webhooks, whsec_...): shown this once only"
    )


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: str = Field(description="The event's id, as sent in the webhook-id header")
    event_type: EventType
    attempt: int
    outcome: DeliveryOutcome = Field(description="delivered, retrying, or failed (given up)")
    status_code: int | None = Field(description="The receiver's answer, when there was one")
    error: str | None
    attempted_at: Instant
    next_attempt_at: Instant | None = Field(description="When it is tried again, if it is")


class PingSent(BaseModel):
    webhook_id: uuid.UUID = Field(
        description="A webhook.ping event is on its way to this webhook, and to no other"
    )
