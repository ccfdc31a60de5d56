"""Creating the first operator, before any token exists, and organisations' administrators."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.roles import Role
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation
from app.organisations.service import create_organisation, issue_client

PLATFORM_NAME = "JTAI Exchange platform"


def platform_organisation(session: Session) -> Organisation:
    existing = session.execute(
        select(Organisation)
        .where(Organisation.kind == OrganisationKind.PLATFORM)
        .order_by(Organisation.created_at)
        .limit(1)
    ).scalar_one_or_none()
    return existing or create_organisation(session, None, PLATFORM_NAME, OrganisationKind.PLATFORM)


def create_operator_client(session: Session, name: str) -> dict[str, str]:
    organisation = platform_organisation(session)
    issued = issue_client(session, None, organisation.id, name, [Role.OPERATOR])
    return {"client_id": str(issued.client.id), "client_secret": issued.secret}


def create_admin_client(session: Session, organisation_id: uuid.UUID, name: str) -> dict[str, str]:
    """An administrator (``org_admin``) of the organisation, made by the platform itself: the
    first one, or a new one where every administrator is lost (run on the server, so not
    bound by the operator's limits; audited and listed to the organisation all the same)."""
    issued = issue_client(session, None, organisation_id, name, [Role.ORG_ADMIN])
    return {"client_id": str(issued.client.id), "client_secret": issued.secret}
