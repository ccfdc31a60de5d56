from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.core.moments import Instant, Moment
from app.core.text import LongText


class EngagementWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    child_agreed: StrictBool | None = Field(default=None, description="null: not yet known")
    parent_agreed: StrictBool | None = None
    carer_agreed: StrictBool | None = None
    reason_when_not: LongText | None = Field(
        default=None, description="Required when any of the three is false"
    )
    arrangements: LongText | None = Field(default=None, description="When, where, who")
    confirmed_in_writing_at: Moment | None = Field(
        default=None, description="When the arrangements were confirmed in writing"
    )


class EngagementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    child_id: str
    child_agreed: bool | None
    parent_agreed: bool | None
    carer_agreed: bool | None
    reason_when_not: str | None
    arrangements: str | None
    confirmed_in_writing_at: Instant | None
    confirmation_recorded_at: Instant | None = Field(
        description="When the service first learnt of the written confirmation"
    )
    version: int
    changed_at: Instant
    changed_by_client_id: uuid.UUID
    changed_by_organisation_id: uuid.UUID
