"""A person signed in with a trusted issuer, as a principal of an organisation.

The person's row in ``api_clients`` (issuer, subject, no secret) is made on first use, with
the id ``person_id(issuer, subject)``; two first requests at once both succeed (the second
insert does nothing). Organisation and roles come from the token each time: the organisation
must exist, be enabled and hold those roles; the row keeps the latest name, roles and
organisation for display, and a disabled row locks the person out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Uuid, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.issuers import PersonClaims
from app.auth.models import ApiClient
from app.auth.principal import Principal, PrincipalKind
from app.auth.roles import role_fits_kind, scopes_for
from app.auth.tokens import InvalidToken
from app.core.database import on_postgresql, utcnow
from app.organisations.models import Organisation

# Every request of a person runs this: the organisation the token maps to, and the person's
# row if there is one yet.
_PERSON_IN_ORGANISATION = (
    select(
        Organisation.name.label("organisation_name"),
        Organisation.kind,
        Organisation.disabled_at.label("organisation_disabled_at"),
        ApiClient.id,
        ApiClient.name,
        ApiClient.roles,
        ApiClient.organisation_id,
        ApiClient.disabled_at,
        ApiClient.issuer,
        ApiClient.subject,
    )
    .select_from(Organisation)
    .outerjoin(ApiClient, ApiClient.id == bindparam("person_id", type_=Uuid()))
    .where(Organisation.id == bindparam("organisation_id", type_=Uuid()))
)


def principal_for_person(session: Session, claims: PersonClaims) -> Principal:
    """The person as a principal; ``InvalidToken`` (logged, never shown) if they may not act."""
    found = _lookup(session, claims)
    if found is None:
        mapped = f"{claims.issuer} maps to organisation {claims.organisation_id}"
        raise InvalidToken(f"{mapped}, which does not exist")
    if found.organisation_disabled_at is not None:
        raise InvalidToken("organisation disabled")
    misfits = sorted(role.value for role in claims.roles if not role_fits_kind(role, found.kind))
    if misfits:
        raise InvalidToken(f"role {misfits[0]!r} does not fit a {found.kind.value!r}")
    principal = Principal(
        client_id=claims.principal_id,
        client_name=claims.name,
        organisation_id=claims.organisation_id,
        organisation_name=found.organisation_name,
        organisation_kind=found.kind,
        roles=claims.roles,
        scopes=scopes_for(claims.roles),
        kind=PrincipalKind.PERSON,
    )
    if found.id is None:
        _register(session, claims, principal)
        found = _lookup(session, claims)
        if found is None or found.id is None:
            raise InvalidToken("the person's row could not be made")
    if (found.issuer, found.subject) != (claims.issuer, claims.subject):
        raise InvalidToken("the person's id belongs to another principal")
    if found.disabled_at is not None:
        raise InvalidToken("person disabled")
    _keep_current(session, found, principal)
    return principal


def _lookup(session: Session, claims: PersonClaims) -> Row[Any] | None:
    parameters = {"person_id": claims.principal_id, "organisation_id": claims.organisation_id}
    return session.execute(_PERSON_IN_ORGANISATION, parameters).first()


def _register(session: Session, claims: PersonClaims, principal: Principal) -> None:
    dialect = postgresql if on_postgresql(session) else sqlite
    statement = (
        dialect.insert(ApiClient)
        .values(
            id=claims.principal_id,
            organisation_id=claims.organisation_id,
            name=claims.name,
            roles=sorted(role.value for role in claims.roles),
            secret_hash=None,
            created_at=utcnow(),
            secret_rotated_at=None,
            disabled_at=None,
            issuer=claims.issuer,
            subject=claims.subject,
        )
        .on_conflict_do_nothing()
        .returning(ApiClient.id)
    )
    # A row back only if this insert made it (rowcount is not reliable here on PostgreSQL).
    if session.execute(statement).first() is not None:
        audit.record(
            session,
            principal,
            "client.person_registered",
            "client",
            principal.client_id,
            detail=_what(principal) | {"issuer": claims.issuer, "subject": claims.subject},
        )


def _keep_current(session: Session, found: Row[Any], principal: Principal) -> None:
    """The row shows the person as their latest token did; a change of roles or
    organisation is audited."""
    roles = sorted(role.value for role in principal.roles)
    moved = found.organisation_id != principal.organisation_id or sorted(found.roles) != roles
    if not moved and found.name == principal.client_name:
        return
    session.execute(
        update(ApiClient)
        .where(ApiClient.id == principal.client_id)
        .values(name=principal.client_name, roles=roles, organisation_id=principal.organisation_id)
    )
    if moved:
        audit.record(
            session,
            principal,
            "client.person_changed",
            "client",
            principal.client_id,
            detail=_what(principal),
        )


def _what(principal: Principal) -> dict[str, Any]:
    return {
        "organisation_id": str(principal.organisation_id),
        "roles": sorted(role.value for role in principal.roles),
    }
