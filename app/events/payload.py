"""An event as every consumer sees it, in the feed and in a webhook's body alike."""

from __future__ import annotations

from typing import Any

from app.events.models import Event


def event_id(event: Event) -> str:
    """The event's stable id: the ``webhook-id`` of its deliveries, for receivers to dedupe."""
    return f"evt_{event.id}"


def event_payload(event: Event) -> dict[str, Any]:
    """Thin by design: what happened and where to read it, never the data itself."""
    occurred = event.occurred_at.isoformat(timespec="microseconds").replace("+00:00", "Z")
    return {
        "id": event_id(event),
        "type": event.event_type,
        "occurred_at": occurred,
        "inspection_id": None if event.inspection_id is None else str(event.inspection_id),
        "resource": {
            "type": event.resource_type,
            "id": event.resource_id,
            "url": event.resource_url,
        },
    }
