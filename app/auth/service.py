"""Client credentials and principals; no HTTP here."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from app.auth.issuers import Claims, PersonClaims
from app.auth.models import ApiClient
from app.auth.persons import principal_for_person
from app.auth.principal import Principal, PrincipalKind
from app.auth.roles import Role, role_fits_kind, scopes_for
from app.auth.secrets import (
    credential_generation,
    generate_client_secret,
    hash_client_secret,
    secret_matches,
)
from app.auth.tokens import InvalidToken
from app.core.database import utcnow
from app.core.errors import Conflict, InvalidContent, NotFound, ProblemItem
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation


class InvalidClient(Exception):
    """Unknown client, wrong secret, or a disabled client or organisation."""


@dataclass(frozen=True)
class IssuedCredentials:
    client: ApiClient
    secret: str


@dataclass(frozen=True)
class AuthenticatedClient:
    """A client that proved its secret, and the generation of that secret its tokens carry."""

    principal: Principal
    credential_generation: str


def _load_client(session: Session, client_id: uuid.UUID) -> tuple[ApiClient, Organisation] | None:
    row = session.execute(
        select(ApiClient, Organisation)
        .join(Organisation, ApiClient.organisation_id == Organisation.id)
        .where(ApiClient.id == client_id)
    ).first()
    return None if row is None else (row[0], row[1])


def _principal(client: ApiClient, organisation: Organisation) -> Principal:
    return _principal_of(
        client.id,
        client.name,
        client.roles,
        organisation.id,
        organisation.name,
        organisation.kind,
        kind=client.kind,
    )


def _principal_of(
    client_id: uuid.UUID,
    client_name: str,
    client_roles: list[str],
    organisation_id: uuid.UUID,
    organisation_name: str,
    organisation_kind: OrganisationKind,
    token_scopes: frozenset[str] | None = None,
    kind: PrincipalKind = PrincipalKind.SYSTEM,
) -> Principal:
    roles = frozenset(Role(role) for role in client_roles)
    scopes = scopes_for(roles)
    if token_scopes is not None:
        # A token asked for fewer scopes keeps to them; roles still bound what it can have.
        scopes = frozenset(scope for scope in scopes if scope.value in token_scopes)
    return Principal(
        client_id=client_id,
        client_name=client_name,
        organisation_id=organisation_id,
        organisation_name=organisation_name,
        organisation_kind=organisation_kind,
        roles=roles,
        scopes=scopes,
        kind=kind,
    )


def authenticate_client(session: Session, client_id: str, secret: str) -> AuthenticatedClient:
    try:
        parsed = uuid.UUID(client_id)
    except ValueError:
        raise InvalidClient("malformed client id") from None
    found = _load_client(session, parsed)
    # Compare even for unknown clients (and people, who have no secret) so timing does not
    # reveal which ids exist.
    stored_hash = found[0].secret_hash if found else None
    matches = secret_matches(secret, stored_hash or hash_client_secret(""))
    if not matches or found is None or stored_hash is None:
        raise InvalidClient("unknown client, a person, or wrong secret")
    client, organisation = found
    if client.disabled_at is not None or organisation.disabled_at is not None:
        raise InvalidClient("client or organisation disabled")
    return AuthenticatedClient(_principal(client, organisation), credential_generation(stored_hash))


# Every request runs this: built once (SQLAlchemy then skips building and keying it per call),
# and it reads the few columns it needs rather than two whole entities.
_CLIENT_FOR_TOKEN = (
    select(
        ApiClient.name,
        ApiClient.roles,
        ApiClient.secret_hash,
        ApiClient.disabled_at,
        Organisation.id.label("organisation_id"),
        Organisation.name.label("organisation_name"),
        Organisation.kind,
        Organisation.disabled_at.label("organisation_disabled_at"),
    )
    .join(Organisation, ApiClient.organisation_id == Organisation.id)
    .where(ApiClient.id == bindparam("client_id", type_=Uuid()))
)


def principal_for_token(session: Session, claims: Claims) -> Principal:
    """Who the token is now; ``InvalidToken`` if the client or person may no longer act."""
    if isinstance(claims, PersonClaims):
        return principal_for_person(session, claims)
    found = session.execute(_CLIENT_FOR_TOKEN, {"client_id": claims.subject}).first()
    if found is None:
        raise InvalidToken("unknown client")
    if found.secret_hash is None:
        raise InvalidToken("a person's id in a client token")
    if found.disabled_at is not None or found.organisation_disabled_at is not None:
        raise InvalidToken("client or organisation disabled")
    # A rotated secret ends every token issued under the one before, however recently: the
    # token names its secret's generation, and a rotation makes a new one.
    current = credential_generation(found.secret_hash)
    if not hmac.compare_digest(claims.credential_generation, current):
        raise InvalidToken("token issued under a secret that has since been rotated")
    return _principal_of(
        claims.subject,
        found.name,
        found.roles,
        found.organisation_id,
        found.organisation_name,
        found.kind,
        claims.scopes,
    )


def principal_for_client(session: Session, client_id: uuid.UUID) -> Principal:
    """The principal a client acts as (for tools acting on a client's behalf)."""
    found = _load_client(session, client_id)
    if found is None:
        raise NotFound("No such client.")
    return _principal(*found)


def validate_roles(roles: list[Role], organisation: Organisation) -> None:
    problems = [
        ProblemItem(
            field=f"roles.{index}",
            code="role_not_allowed_for_kind",
            message=f"role '{role.value}' cannot be held by a '{organisation.kind.value}'",
            value=role.value,
        )
        for index, role in enumerate(roles)
        if not role_fits_kind(role, organisation.kind)
    ]
    if problems:
        raise InvalidContent(
            "A role does not fit the organisation's kind.", code="invalid_roles", errors=problems
        )


def create_client(
    session: Session, organisation: Organisation, name: str, roles: list[Role]
) -> IssuedCredentials:
    validate_roles(roles, organisation)
    secret = generate_client_secret()
    client = ApiClient(
        organisation_id=organisation.id,
        name=name,
        roles=sorted({role.value for role in roles}),
        secret_hash=hash_client_secret(secret),
    )
    session.add(client)
    session.flush()
    return IssuedCredentials(client, secret)


def get_client(session: Session, client_id: uuid.UUID) -> ApiClient:
    client = session.get(ApiClient, client_id)
    if client is None:
        raise NotFound("No such client.")
    return client


def disable_client(session: Session, client: ApiClient) -> ApiClient:
    if client.disabled_at is None:
        client.disabled_at = utcnow()
        session.flush()
    return client


def rotate_secret(session: Session, client: ApiClient) -> IssuedCredentials:
    if client.kind is PrincipalKind.PERSON:
        # A secret would let a person's row obtain tokens of ours: people sign in with their
        # identity provider only.
        raise Conflict(
            "A person signs in with their identity provider and has no secret.",
            code="person_has_no_secret",
        )
    secret = generate_client_secret()
    client.secret_hash = hash_client_secret(secret)
    client.secret_rotated_at = utcnow()
    session.flush()
    return IssuedCredentials(client, secret)
