from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.moments import Instant


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: Instant
    client_id: uuid.UUID | None
    organisation_id: uuid.UUID | None
    action: str
    object_type: str
    object_id: str | None
    inspection_id: uuid.UUID | None
    child_id: str | None
    request_id: str | None
    detail: dict[str, Any]
    prev_hash: str | None = Field(description="Null in a redacted row")
    hash: str | None = Field(description="Null in a redacted row")
    redacted: bool = Field(
        default=False,
        description="Child identifiers and row data were taken out (the operator's view)",
    )


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    next_after_seq: int | None = Field(
        description="Pass as after_seq for the next page; null at the end"
    )


class AuditVerification(BaseModel):
    """The verdict on the chain. No hash is given: the operator, who asks, sees rows without
    their child IDs, and a row's hash with the rest of it shown would give a short child ID back
    to a guess. Anchors (`jtai audit anchor`, on the server) write the head's hash down."""

    valid: bool
    events_checked: int = Field(description="Rows whose links were recomputed, after from_seq")
    from_seq: int = Field(
        description="Verified from here: the last anchor's seq (0: the whole chain, from the "
        "genesis)"
    )
    head_seq: int = Field(description="Last sequence number verified")
    first_broken_seq: int | None = None
    problem: str | None = None
