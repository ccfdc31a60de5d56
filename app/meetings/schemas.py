from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.moments import Instant, Moment
from app.selections.schemas import ChildId

Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
CallLink = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https://\S+$"),
]


class MeetingWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=64, description="A `meeting_kinds` key of the theme")
    starts_at: Moment
    ends_at: Moment = Field(description="After starts_at")
    place: Place | None = Field(default=None, description="Where (or give call_link)")
    call_link: CallLink | None = Field(default=None, description="An https link to the call")
    organisation_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=50, description="Organisations taking part in the meeting"
    )
    child_ids: list[ChildId] = Field(default_factory=list, max_length=100)


class MeetingWarning(BaseModel):
    code: str
    message: str
    organisation_id: uuid.UUID
    meeting_id: uuid.UUID = Field(description="The other meeting")


class MeetingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    starts_at: Instant
    ends_at: Instant
    place: str | None
    call_link: str | None
    organisation_ids: list[uuid.UUID]
    child_ids: list[str]
    version: int
    created_at: Instant
    changed_at: Instant
    changed_by_client_id: uuid.UUID
    recorded_by_organisation_id: uuid.UUID = Field(
        description="The agency that recorded the meeting; it and the local authority change it"
    )
    warnings: list[MeetingWarning] = Field(
        default_factory=list,
        description="Overlaps with other meetings of the same organisation (not errors)",
    )
