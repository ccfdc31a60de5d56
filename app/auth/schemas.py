from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from app.auth.principal import PrincipalKind
from app.auth.roles import Role, Scope
from app.organisations.kinds import OrganisationKind


class GrantType(StrEnum):
    CLIENT_CREDENTIALS = "client_credentials"


class TokenRequest(BaseModel):
    """The token request's form as the contract declares it (RFC 6749 section 4.4).

    The route reads the fields one by one, so that a missing or unknown grant type is answered
    as RFC 6749 says (400 ``invalid_request`` / ``unsupported_grant_type``), not as a 422.
    """

    grant_type: GrantType
    client_id: str = Field(description="Or HTTP Basic credentials instead of these two fields")
    client_secret: str
    scope: str | None = Field(
        default=None, description="Space-separated scopes, a subset of the client's"
    )


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds until the token expires")
    scope: str = Field(description="Space-separated scopes the token's roles grant")


class OrganisationSummary(BaseModel):
    id: uuid.UUID
    name: str
    kind: OrganisationKind


class MeRead(BaseModel):
    client_id: uuid.UUID = Field(description="The principal's id, a person's too")
    client_name: str
    kind: PrincipalKind = Field(
        description="`system` (client credentials) or `person` (a trusted issuer's token)"
    )
    organisation: OrganisationSummary
    roles: list[Role]
    scopes: list[Scope]


class JwksKey(BaseModel):
    kty: str
    crv: str
    x: str
    y: str
    kid: str
    use: str
    alg: str


class Jwks(BaseModel):
    keys: list[JwksKey]
