from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from app.core.moments import Instant, Moment
from app.inspections.models import InspectionStatus
from app.organisations.kinds import OrganisationKind


class InspectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area_name: str = Field(min_length=1, max_length=200)
    local_authority_id: uuid.UUID
    theme: str = Field(min_length=1, max_length=64, examples=["mental-health"])
    notification_at: Moment = Field(
        description="When the area was notified (D0), ISO 8601 with offset",
        examples=["2027-03-22T09:00:00+00:00"],
    )
    team: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=50,
        description=(
            "Inspectors named to the team from the start (principal ids); their inspectorates "
            "join the inspection. Only team members and the lead read an inspection."
        ),
    )


class ParticipantRead(BaseModel):
    organisation_id: uuid.UUID
    name: str
    kind: OrganisationKind
    added_at: Instant


class InspectionWarningRead(BaseModel):
    code: str = Field(examples=["notification_day_not_theme_day"])
    message: str


class InspectionRead(BaseModel):
    id: uuid.UUID
    area_name: str
    local_authority_id: uuid.UUID
    theme: str
    notification_at: Instant
    status: InspectionStatus
    lead_client_id: uuid.UUID | None
    created_at: Instant
    participants: list[ParticipantRead]
    warnings: list[InspectionWarningRead] = Field(
        description="Where the inspection departs from its theme's guidance (not errors)"
    )


class LeadUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: uuid.UUID


class StatusUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: InspectionStatus


class TeamMemberRead(BaseModel):
    principal_id: uuid.UUID
    name: str
    organisation_id: uuid.UUID
    organisation_name: str
    organisation_kind: OrganisationKind
    roles: list[str]
    is_lead: bool = Field(description="The lead inspector is always on the team")
    added_at: Instant
