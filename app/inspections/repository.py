"""Reading inspections, their participants and the rows they point at; no rules here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Uuid, and_, bindparam, exists, func, select
from sqlalchemy.orm import Session

from app.auth.models import ApiClient
from app.inspections.models import Inspection, InspectionParticipant
from app.organisations.models import Organisation

# Built once: every request about an inspection starts with one of these two.
_INSPECTION = select(Inspection).where(Inspection.id == bindparam("inspection_id", type_=Uuid()))
_INSPECTION_IF_PARTICIPANT = _INSPECTION.where(
    exists().where(
        InspectionParticipant.inspection_id == Inspection.id,
        InspectionParticipant.organisation_id == bindparam("organisation_id", type_=Uuid()),
    )
)


def visible_inspection(
    session: Session, inspection_id: uuid.UUID, organisation_id: uuid.UUID | None
) -> Inspection | None:
    """The inspection if the organisation takes part in it; with None, whoever takes part."""
    if organisation_id is None:
        found = session.execute(_INSPECTION, {"inspection_id": inspection_id})
    else:
        found = session.execute(
            _INSPECTION_IF_PARTICIPANT,
            {"inspection_id": inspection_id, "organisation_id": organisation_id},
        )
    return found.scalar_one_or_none()


def _participates(organisation_id: uuid.UUID) -> object:
    return exists().where(
        and_(
            InspectionParticipant.inspection_id == Inspection.id,
            InspectionParticipant.organisation_id == organisation_id,
        )
    )


def page_of_inspections(
    session: Session, organisation_id: uuid.UUID | None, *, limit: int, offset: int
) -> tuple[Sequence[Inspection], int]:
    """A page of the inspections the organisation takes part in (None: all), latest
    notification first, and how many there are in all."""
    query = select(Inspection)
    if organisation_id is not None:
        query = query.where(_participates(organisation_id))  # type: ignore[arg-type]
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
