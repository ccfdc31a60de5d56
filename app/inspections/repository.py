"""Reading inspections, their participants and the rows they point at; no rules here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Uuid, and_, bindparam, exists, func, select
from sqlalchemy.orm import Session

from app.auth.models import ApiClient
from app.inspections.models import Inspection, InspectionParticipant, InspectionTeamMember
from app.organisations.models import Organisation

# Built once: every request about an inspection starts with one of these two.
_INSPECTION = select(Inspection).where(Inspection.id == bindparam("inspection_id", type_=Uuid()))
_INSPECTION_IF_PARTICIPANT = _INSPECTION.where(
    exists().where(
        InspectionParticipant.inspection_id == Inspection.id,
        InspectionParticipant.organisation_id == bindparam("organisation_id", type_=Uuid()),
    )
)


# An inspector reads an inspection only while on its team (and its inspectorate takes part).
_INSPECTION_IF_ON_TEAM = _INSPECTION_IF_PARTICIPANT.where(
    exists().where(
        InspectionTeamMember.inspection_id == Inspection.id,
        InspectionTeamMember.principal_id == bindparam("principal_id", type_=Uuid()),
        InspectionTeamMember.organisation_id == bindparam("organisation_id", type_=Uuid()),
    )
)


@dataclass(frozen=True)
class Viewer:
    """Whose view of the inspections to read: an organisation's, narrowed to one principal's
    team places when ``team_member`` is set; everything when ``organisation_id`` is None."""

    organisation_id: uuid.UUID | None
    team_member: uuid.UUID | None = None


def visible_inspection(
    session: Session, inspection_id: uuid.UUID, viewer: Viewer
) -> Inspection | None:
    """The inspection if the viewer may know it exists."""
    parameters = {
        "inspection_id": inspection_id,
        "organisation_id": viewer.organisation_id,
        "principal_id": viewer.team_member,
    }
    if viewer.organisation_id is None:
        query = _INSPECTION
    elif viewer.team_member is None:
        query = _INSPECTION_IF_PARTICIPANT
    else:
        query = _INSPECTION_IF_ON_TEAM
    return session.execute(query, parameters).scalar_one_or_none()


def _visible_to(viewer: Viewer) -> list[object]:
    conditions: list[object] = [
        exists().where(
            and_(
                InspectionParticipant.inspection_id == Inspection.id,
                InspectionParticipant.organisation_id == viewer.organisation_id,
            )
        )
    ]
    if viewer.team_member is not None:
        conditions.append(
            exists().where(
                and_(
                    InspectionTeamMember.inspection_id == Inspection.id,
                    InspectionTeamMember.principal_id == viewer.team_member,
                    InspectionTeamMember.organisation_id == viewer.organisation_id,
                )
            )
        )
    return conditions


def page_of_inspections(
    session: Session, viewer: Viewer, *, limit: int, offset: int
) -> tuple[Sequence[Inspection], int]:
    """A page of the inspections the viewer may see, latest notification first, and how many
    there are in all."""
    query = select(Inspection)
    if viewer.organisation_id is not None:
        query = query.where(*_visible_to(viewer))  # type: ignore[arg-type]
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(Inspection.notification_at.desc(), Inspection.id).limit(limit).offset(offset)
    )
    return rows.scalars().all(), int(total)


def participants(
    session: Session, inspection_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[InspectionParticipant, Organisation]]]:
    """Each inspection's participants with their organisations, in the order they joined."""
    rows = session.execute(
        select(InspectionParticipant, Organisation)
        .join(Organisation, InspectionParticipant.organisation_id == Organisation.id)
        .where(InspectionParticipant.inspection_id.in_(inspection_ids))
        .order_by(InspectionParticipant.added_at, Organisation.name)
    ).all()
    grouped: dict[uuid.UUID, list[tuple[InspectionParticipant, Organisation]]] = {
        inspection_id: [] for inspection_id in inspection_ids
    }
    for participant, organisation in rows:
        grouped[participant.inspection_id].append((participant, organisation))
    return grouped


def participant(
    session: Session, inspection_id: uuid.UUID, organisation_id: uuid.UUID
) -> InspectionParticipant | None:
    return session.get(InspectionParticipant, (inspection_id, organisation_id))


def client(session: Session, client_id: uuid.UUID) -> ApiClient | None:
    return session.get(ApiClient, client_id)


def organisation_of(session: Session, client: ApiClient) -> Organisation:
    organisation = session.get(Organisation, client.organisation_id)
    assert organisation is not None  # a foreign key with ON DELETE RESTRICT
    return organisation


def team(
    session: Session, inspection_id: uuid.UUID
) -> list[tuple[InspectionTeamMember, ApiClient, Organisation]]:
    """The inspection's team with each member's client and organisation, in joining order."""
    rows = session.execute(
        select(InspectionTeamMember, ApiClient, Organisation)
        .join(ApiClient, InspectionTeamMember.principal_id == ApiClient.id)
        .join(Organisation, ApiClient.organisation_id == Organisation.id)
        .where(InspectionTeamMember.inspection_id == inspection_id)
        .order_by(InspectionTeamMember.added_at, ApiClient.name, ApiClient.id)
    ).all()
    return [(member, client, organisation) for member, client, organisation in rows]


def team_member(
    session: Session, inspection_id: uuid.UUID, principal_id: uuid.UUID
) -> InspectionTeamMember | None:
    return session.get(InspectionTeamMember, (inspection_id, principal_id))


def on_team(session: Session, inspection_id: uuid.UUID, principal_id: uuid.UUID) -> bool:
    return team_member(session, inspection_id, principal_id) is not None


def team_members_of(
    session: Session, inspection_id: uuid.UUID, organisation_id: uuid.UUID
) -> Sequence[InspectionTeamMember]:
    """The team members who act for one organisation (its inspectors)."""
    return (
        session.execute(
            select(InspectionTeamMember).where(
                InspectionTeamMember.inspection_id == inspection_id,
                InspectionTeamMember.organisation_id == organisation_id,
            )
        )
        .scalars()
        .all()
    )
