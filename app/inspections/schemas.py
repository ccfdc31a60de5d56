from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.inspections.models import InspectionStatus
from app.organisations.kinds import OrganisationKind


class InspectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area_name: str = Field(min_length=1, max_length=200)
    local_authority_id: uuid.UUID
    theme: str = Field(min_length=1, max_length=64, examples=["mental-health"])
    notification_at: AwareDatetime = Field(
        description="When the area was notified (D0), ISO 8601 with offset",
        examples=["2027-03-22T09:00:00+00:00"],
    )


class ParticipantRead(BaseModel):
    organisation_id: uuid.UUID
    name: str
    kind: OrganisationKind
    added_at: datetime


class InspectionRead(BaseModel):
    id: uuid.UUID
    area_name: str
    local_authority_id: uuid.UUID
    theme: str
    notification_at: datetime
    status: InspectionStatus
    lead_client_id: uuid.UUID | None
    created_at: datetime
    participants: list[ParticipantRead]


class LeadUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: uuid.UUID


class StatusUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: InspectionStatus
