"""The closed list of event types (DESIGN.md section 7, issue 17): what a subscription may ask
for. ``webhook.ping`` is a webhook's own test event, never in any feed."""

from __future__ import annotations

EVENT_TYPES: tuple[str, ...] = (
    "list.pushed",
    "selection.changed",
    "request.opened",
    "request.withdrawn",
    "document.received",
    "nil_return.received",
    "evaluation.saved",
    "meeting.changed",
    "milestone.moved",
    "inspection.status_changed",
    "deadline.approaching",
    "deadline.overdue",
    "credential.changed",
)
PING = "webhook.ping"
