"""Organisations and their API clients; no HTTP here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth import service as auth_service
from app.auth.models import ApiClient
from app.auth.principal import Principal
from app.auth.roles import Role
from app.auth.service import IssuedCredentials
from app.core.errors import NotFound
from app.idempotency.service import forget_client
from app.organisations import repository
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation


def create_organisation(
    session: Session, actor: Principal | None, name: str, kind: OrganisationKind
) -> Organisation:
    """Register an organisation; ``actor`` None when the platform itself does (CLI, demo)."""
    organisation = Organisation(name=name, kind=kind)
    session.add(organisation)
    session.flush()
    audit.record(session, actor, "organisation.created", "organisation", organisation.id)
    return organisation


def get_organisation(session: Session, organisation_id: uuid.UUID) -> Organisation:
    organisation = repository.organisation(session, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def list_organisations(
    session: Session, *, kind: OrganisationKind | None, limit: int, offset: int
) -> tuple[Sequence[Organisation], int]:
    return repository.page_of_organisations(session, kind, limit=limit, offset=offset)


def list_clients(session: Session, organisation: Organisation) -> Sequence[ApiClient]:
    return repository.clients_of(session, organisation.id)


def issue_client(
    session: Session,
    actor: Principal | None,
    organisation: Organisation,
    name: str,
    roles: list[Role],
) -> IssuedCredentials:
    """A new API client of the organisation; its secret is in the answer and nowhere else."""
    issued = auth_service.create_client(session, organisation, name, roles)
    audit.record(
        session,
        actor,
        "client.created",
        "client",
        issued.client.id,
        detail={"organisation_id": str(organisation.id), "roles": issued.client.roles},
    )
    return issued


def disable_client(session: Session, actor: Principal | None, client_id: uuid.UUID) -> ApiClient:
    """Disable a client and forget the answers kept for its retries: none is replayed again."""
    client = auth_service.get_client(session, client_id)
    auth_service.disable_client(session, client)
    forget_client(session, client.id)
    audit.record(session, actor, "client.disabled", "client", client.id)
    return client


def rotate_client_secret(
    session: Session, actor: Principal | None, client_id: uuid.UUID
) -> IssuedCredentials:
    """A new secret for the client; tokens issued before it stop working."""
    return rotate_secret_of(session, actor, auth_service.get_client(session, client_id))


def rotate_secret_of(
    session: Session, actor: Principal | None, client: ApiClient
) -> IssuedCredentials:
    issued = auth_service.rotate_secret(session, client)
    audit.record(session, actor, "client.secret_rotated", "client", issued.client.id)
    return issued
