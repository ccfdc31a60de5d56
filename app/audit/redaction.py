"""The operator's view of the audit trail: what happened, never about which child.

DESIGN.md: the operator manages organisations, clients and inspections and reads neither
lists nor documents. The audit trail names children (who was selected, whose record was
read), so the operator sees each row with its child identifiers taken out and its detail
reduced to counts and kinds: a list becomes its length, and a text survives only under a key
known to hold no child data. The row's hashes go too: a child ID is short enough that, with
every other field of the row shown, its hash would give it away to a guess. The operator
checks the chain with ``GET /v1/audit/verify``, which recomputes it on the server.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.audit.models import AuditEvent

# Detail keys whose text never holds child data: kinds, statuses, names of organisations'
# lists and themes. Anything else that is text is withheld from the operator, free text
# (a milestone's reason for moving, say) above all: anyone may have named a child in it.
SAFE_TEXT_KEYS = frozenset(
    {
        "area_name",
        "by",
        "from",
        "kind",
        "list_key",
        "media_type",
        "milestone",
        "organisation_id",
        "status",
        "theme",
        "to",
    }
)
WITHHELD = "withheld"
# Rows whose object is a child: its ID is the object's ID.
CHILD_OBJECT_TYPES = frozenset({"child", "engagement"})


@dataclass(frozen=True)
class AuditView:
    """One audit row as a reader may see it; ``redacted`` when child data was taken out."""

    seq: int
    occurred_at: datetime
    client_id: uuid.UUID | None
    organisation_id: uuid.UUID | None
    action: str
    object_type: str
    object_id: str | None
    inspection_id: uuid.UUID | None
    child_id: str | None
    request_id: str | None
    detail: dict[str, Any]
    prev_hash: str | None
    hash: str | None
    redacted: bool = False


def whole(row: AuditEvent) -> AuditView:
    return AuditView(
        seq=row.seq,
        occurred_at=row.occurred_at,
        client_id=row.client_id,
        organisation_id=row.organisation_id,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        inspection_id=row.inspection_id,
        child_id=row.child_id,
        request_id=row.request_id,
        detail=dict(row.detail),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _reduced(key: str, value: object) -> object:
    if isinstance(value, list | tuple | dict):
        return len(value)
    if isinstance(value, str) and key not in SAFE_TEXT_KEYS:
        return WITHHELD
    return value


def _object_id(row: AuditEvent) -> str | None:
    names_child = row.object_type in CHILD_OBJECT_TYPES or (
        row.child_id is not None and row.object_id == row.child_id
    )
    return None if names_child else row.object_id


def without_children(row: AuditEvent) -> AuditView:
    """The row with no child identifier or row data left in it."""
    view = whole(row)
    return AuditView(
        **{
            **view.__dict__,
            "object_id": _object_id(row),
            "child_id": None,
            "detail": {key: _reduced(key, value) for key, value in row.detail.items()},
            "prev_hash": None,
            "hash": None,
            "redacted": True,
        }
    )
