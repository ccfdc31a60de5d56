from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.auth.principal import PrincipalKind
from app.auth.roles import Role
from app.organisations.kinds import OrganisationKind


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
    """A system (client credentials) or a person (signed in with a trusted issuer, first
    seen at `created_at`; roles as their latest token mapped them)."""

    model_config = ConfigDict(from_attributes=True)

    client_id: uuid.UUID = Field(validation_alias="id")
    kind: PrincipalKind
    organisation_id: uuid.UUID
    name: str
    roles: list[Role]
    created_at: datetime
    secret_rotated_at: datetime | None = Field(description="None for a person: no secret")
    disabled_at: datetime | None
    issuer: str | None = Field(description="A person's identity provider (`iss`)")
    subject: str | None = Field(description="A person's `sub` at that issuer")


class ClientCredentials(BaseModel):
    """Shown once: the secret is stored only as a hash."""

    client_id: uuid.UUID
    client_secret: str
