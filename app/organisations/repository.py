"""Reading organisations and their API clients; no rules here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import ApiClient
from app.auth.roles import Role
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation


def organisation(session: Session, organisation_id: uuid.UUID) -> Organisation | None:
    return session.get(Organisation, organisation_id)


def page_of_organisations(
    session: Session, kind: OrganisationKind | None, *, limit: int, offset: int
) -> tuple[Sequence[Organisation], int]:
    """A page of the organisations (of one kind, if named), oldest first, and how many there
    are in all."""
    query = select(Organisation)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(Organisation.created_at, Organisation.id).limit(limit).offset(offset)
    )
    return rows.scalars().all(), int(total)


def organisation_named(session: Session, kind: OrganisationKind, name_key: str) -> uuid.UUID | None:
    """The organisation of that kind whose name is the same (``models.name_key``), if any."""
    query = select(Organisation.id).where(
        Organisation.kind == kind, Organisation.name_key == name_key
    )
    return session.execute(query).scalar_one_or_none()


def clients_of(session: Session, organisation_id: uuid.UUID) -> Sequence[ApiClient]:
    """The organisation's API clients, oldest first."""
    query = (
        select(ApiClient)
        .where(ApiClient.organisation_id == organisation_id)
        .order_by(ApiClient.created_at, ApiClient.id)
    )
    return session.execute(query).scalars().all()


def client(session: Session, client_id: uuid.UUID) -> ApiClient | None:
    return session.get(ApiClient, client_id)


def has_had_administrator(session: Session, organisation_id: uuid.UUID) -> bool:
    """Whether a client of the organisation holds or held ``org_admin`` (disabled ones too)."""
    roles = session.execute(
        select(ApiClient.roles).where(ApiClient.organisation_id == organisation_id)
    ).scalars()
    # Roles are a JSON list, asked the same way on every database; an organisation's
    # clients are few, and this is asked only when credentials change.
    return any(Role.ORG_ADMIN.value in held for held in roles)
