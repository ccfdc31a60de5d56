"""The closed list of event types (DESIGN.md section 7, issue 17): what a subscription may ask
for. ``webhook.ping`` is a webhook's own test event, never in any feed."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    LIST_PUSHED = "list.pushed"
    SELECTION_CHANGED = "selection.changed"
    REQUEST_OPENED = "request.opened"
    REQUEST_WITHDRAWN = "request.withdrawn"
    DOCUMENT_RECEIVED = "document.received"
    NIL_RETURN_RECEIVED = "nil_return.received"
    EVALUATION_SAVED = "evaluation.saved"
    MEETING_CHANGED = "meeting.changed"
    MILESTONE_MOVED = "milestone.moved"
    INSPECTION_STATUS_CHANGED = "inspection.status_changed"
    DEADLINE_APPROACHING = "deadline.approaching"
    DEADLINE_OVERDUE = "deadline.overdue"
    CREDENTIAL_CHANGED = "credential.changed"
    WEBHOOK_PING = "webhook.ping"


PING = EventType.WEBHOOK_PING.value
# What a subscription may ask for, and what a feed may hold: every type but the ping.
EVENT_TYPES: tuple[str, ...] = tuple(t.value for t in EventType if t is not EventType.WEBHOOK_PING)
