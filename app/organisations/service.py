"""Organisations and their API clients; no HTTP here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.audit import service as audit_service
from app.audit.models import AuditEvent
from app.auth import service as auth_service
from app.auth.models import ApiClient
from app.auth.principal import Principal
from app.auth.roles import Role
from app.auth.service import IssuedCredentials
from app.core.errors import Conflict, NotFound
from app.events import audiences as events
from app.idempotency.service import forget_client
from app.organisations import repository, standing
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation, name_key
from app.organisations.schemas import CredentialAction

# What is listed to an organisation's administrators: every change to its credentials.
CREDENTIAL_EVENTS = tuple(action.value for action in CredentialAction)


def create_organisation(
    session: Session, actor: Principal | None, name: str, kind: OrganisationKind
) -> Organisation:
    """Register an organisation; ``actor`` None when the platform itself does (CLI, demo).
    One of the same kind and name (case and spacing aside) already registered is 409."""
    key = name_key(name)
    existing = repository.organisation_named(session, kind, key)
    if existing is not None:
        raise _already_registered(name, kind, existing)
    organisation = Organisation(name=name, kind=kind, name_key=key)
    try:
        # A savepoint: a registration racing this one is refused by the unique constraint,
        # and the caller's transaction stays usable for the 409.
        with session.begin_nested():
            session.add(organisation)
            session.flush()
    except IntegrityError:
        raced = repository.organisation_named(session, kind, key)
        raise _already_registered(name, kind, raced) from None
    audit.record(session, actor, "organisation.created", "organisation", organisation.id)
    return organisation


def _already_registered(name: str, kind: OrganisationKind, existing: uuid.UUID | None) -> Conflict:
    return Conflict(
        f"An organisation of kind '{kind.value}' named '{name}' is registered already "
        "(names are compared without case or extra spaces).",
        code="organisation_exists",
        extra={"existing_organisation_id": str(existing) if existing else None},
    )


def get_organisation(session: Session, organisation_id: uuid.UUID) -> Organisation:
    organisation = repository.organisation(session, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def list_organisations(
    session: Session, *, kind: OrganisationKind | None, limit: int, offset: int
) -> tuple[Sequence[Organisation], int]:
    return repository.page_of_organisations(session, kind, limit=limit, offset=offset)


def list_clients(
    session: Session, actor: Principal | None, organisation_id: uuid.UUID
) -> Sequence[ApiClient]:
    organisation = standing.organisation_for(session, actor, "list_clients", organisation_id)
    return repository.clients_of(session, organisation.id)


def issue_client(
    session: Session,
    actor: Principal | None,
    organisation_id: uuid.UUID,
    name: str,
    roles: list[Role],
) -> IssuedCredentials:
    """A new API client of the organisation; its secret is in the answer and nowhere else."""
    organisation = standing.organisation_for(
        session, actor, "create_client", organisation_id, roles=roles
    )
    issued = auth_service.create_client(session, organisation, name, roles)
    _audit(session, actor, CredentialAction.CREATED, issued.client, roles=issued.client.roles)
    return issued


def disable_client(session: Session, actor: Principal | None, client_id: uuid.UUID) -> ApiClient:
    """Disable a client and forget the answers kept for its retries: none is replayed again."""
    client = standing.client_for(session, actor, "disable_client", client_id)
    auth_service.disable_client(session, client)
    forget_client(session, client.id)
    _audit(session, actor, CredentialAction.DISABLED, client)
    return client


def rotate_client_secret(
    session: Session, actor: Principal | None, client_id: uuid.UUID
) -> IssuedCredentials:
    """A new secret for the client; tokens issued before it stop working."""
    client = standing.client_for(session, actor, "rotate_client_secret", client_id)
    issued = auth_service.rotate_secret(session, client)
    _audit(session, actor, CredentialAction.SECRET_ROTATED, client)
    return issued


def list_credential_events(
    session: Session,
    actor: Principal | None,
    organisation_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
) -> tuple[Sequence[AuditEvent], int]:
    """The organisation's credential events, oldest first, whoever acted (the operator too)."""
    organisation = standing.organisation_for(
        session, actor, "list_credential_events", organisation_id
    )
    return audit_service.events_concerning_organisation(
        session, organisation.id, CREDENTIAL_EVENTS, limit=limit, offset=offset
    )


def _audit(
    session: Session,
    actor: Principal | None,
    action: CredentialAction,
    client: ApiClient,
    **detail: Any,
) -> None:
    """A credential event, naming the organisation it concerns and whether the operator (or
    the platform itself, from the server's command line) acted; never a secret."""
    concerns = {
        "organisation_id": str(client.organisation_id),
        "by_operator": actor is None or actor.is_operator,
    }
    audit.record(session, actor, action.value, "client", client.id, detail=concerns | detail)
    events.credential_changed(session, client.organisation_id, client.id)
