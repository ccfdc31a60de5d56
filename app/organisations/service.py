"""Organisations and their API clients; no HTTP here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.models import ApiClient
from app.core.errors import NotFound
from app.idempotency.service import forget_client
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation


def create_organisation(session: Session, name: str, kind: OrganisationKind) -> Organisation:
    organisation = Organisation(name=name, kind=kind)
    session.add(organisation)
    session.flush()
    return organisation


def get_organisation(session: Session, organisation_id: uuid.UUID) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def list_organisations(
    session: Session, *, kind: OrganisationKind | None, limit: int, offset: int
) -> tuple[Sequence[Organisation], int]:
    query = select(Organisation)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(Organisation.created_at, Organisation.id).limit(limit).offset(offset)
    )
    return rows.scalars().all(), int(total)


def list_clients(session: Session, organisation: Organisation) -> Sequence[ApiClient]:
    query = (
        select(ApiClient)
        .where(ApiClient.organisation_id == organisation.id)
        .order_by(ApiClient.created_at, ApiClient.id)
    )
    return session.execute(query).scalars().all()


def disable_client(session: Session, client: ApiClient) -> ApiClient:
    """Disable a client and forget the answers kept for its retries: none is replayed again."""
    auth_service.disable_client(session, client)
    forget_client(session, client.id)
    return client
