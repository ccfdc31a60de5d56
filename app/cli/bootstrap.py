"""Creating the first operator, before any token exists."""

from __future__ import annotations

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
