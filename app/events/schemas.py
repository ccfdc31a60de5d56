"""The feed's answer: the same event JSON as a webhook's body (app.events.payload)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from app.core.moments import Instant
from app.events.types import EventType


class EventResource(BaseModel):
    type: str = Field(description="What changed: request, document, selection, ...")
    id: str = Field(description="Its id (a UUID, number or the theme's key; never a child id)")
    url: str = Field(description="The API path to GET it, under the reader's own access")


class EventRead(BaseModel):
    id: str = Field(description="evt_<n>: stable, the webhook-id of its deliveries")
    type: EventType
    occurred_at: Instant
    inspection_id: uuid.UUID | None
    resource: EventResource


class EventPage(BaseModel):
    items: list[EventRead]
    next_cursor: str = Field(
        description=(
            "Where this page ended: pass it as 'after' to read on (the 'after' given when the "
            "page is empty). Store it to resume after a restart: nothing is missed or repeated."
        )
    )
