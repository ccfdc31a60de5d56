from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.auth.roles import Role
from app.organisations.kinds import OrganisationKind


class CredentialAction(StrEnum):
    CREATED = "client.created"
    SECRET_ROTATED = "client.secret_rotated"  # noqa: S105  (an action, not a secret)
    DISABLED = "client.disabled"


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: OrganisationKind


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: OrganisationKind
    created_at: datetime
    active: bool


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1, max_length=4)


class ClientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    client_id: uuid.UUID = Field(validation_alias="id")
    organisation_id: uuid.UUID
    name: str
    roles: list[Role]
    created_at: datetime
    secret_rotated_at: datetime
    disabled_at: datetime | None


class ClientCredentials(BaseModel):
    """Shown once: the secret is stored only as a hash."""

    client_id: uuid.UUID
    client_secret: str
