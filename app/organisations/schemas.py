from __future__ import annotations

import uuid
from enum import StrEnum
from typing import cast

from pydantic import BaseModel, ConfigDict, Field

from app.audit.models import AuditEvent
from app.auth.principal import PrincipalKind
from app.auth.roles import Role
from app.core.moments import Instant
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
    created_at: Instant
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
    created_at: Instant
    secret_rotated_at: Instant | None = Field(description="None for a person: no secret")
    disabled_at: Instant | None
    issuer: str | None = Field(description="A person's identity provider (`iss`)")
    subject: str | None = Field(description="A person's `sub` at that issuer")


class ClientCredentials(BaseModel):
    """Shown once: the secret is stored only as a hash."""

    client_id: uuid.UUID
    client_secret: str


class CredentialEventRead(BaseModel):
    """A change to one of the organisation's credentials, from the audit chain; no secret."""

    seq: int = Field(description="The event's place in the audit chain")
    occurred_at: Instant
    action: CredentialAction
    client_id: uuid.UUID = Field(description="The client whose credentials changed")
    roles: list[str] | None = Field(
        default=None, description="The roles a created client was given"
    )
    actor_client_id: uuid.UUID | None = Field(
        description="Who acted; null: the platform itself (the jtai command on the server)"
    )
    by_operator: bool = Field(
        description="Whether the operator (or the platform itself) acted, not the "
        "organisation's own administrators"
    )
    request_id: str | None

    @classmethod
    def from_audit(cls, event: AuditEvent) -> CredentialEventRead:
        detail = event.detail
        return cls(
            seq=event.seq,
            occurred_at=event.occurred_at,
            action=CredentialAction(event.action),
            client_id=uuid.UUID(str(event.object_id)),
            roles=cast(list[str] | None, detail.get("roles")),
            actor_client_id=event.client_id,
            # Events from before administrators existed say nothing: the operator made them.
            by_operator=bool(detail.get("by_operator", True)),
            request_id=event.request_id,
        )
