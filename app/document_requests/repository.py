"""Reading document requests and the agencies they are asked of; no rules here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.document_requests.models import DocumentRequest, RequestKind
from app.inspections.models import InspectionParticipant
from app.organisations.kinds import AGENCY_KINDS
from app.organisations.models import Organisation


def agencies_taking_part(session: Session, inspection_id: uuid.UUID) -> list[Organisation]:
    """The agencies taking part in the inspection, by name."""
    rows = session.execute(
        select(Organisation)
        .join(InspectionParticipant, InspectionParticipant.organisation_id == Organisation.id)
        .where(InspectionParticipant.inspection_id == inspection_id)
        .order_by(Organisation.name)
    ).scalars()
    return [organisation for organisation in rows if organisation.kind in AGENCY_KINDS]


def derived_requests(
    session: Session, inspection_id: uuid.UUID
) -> dict[uuid.UUID, DocumentRequest]:
    """The inspection's requests derived from the theme (every kind but CQC's), by id."""
    return {
        row.id: row
        for row in session.execute(
            select(DocumentRequest).where(
                DocumentRequest.inspection_id == inspection_id,
                DocumentRequest.kind != RequestKind.CQC,
            )
        ).scalars()
    }


def requests_of(
    session: Session, inspection_id: uuid.UUID, addressee_id: uuid.UUID | None
) -> Sequence[DocumentRequest]:
    """The inspection's requests (of one addressee, if named), by kind, child and item."""
    query = select(DocumentRequest).where(DocumentRequest.inspection_id == inspection_id)
    if addressee_id is not None:
        query = query.where(DocumentRequest.addressee_organisation_id == addressee_id)
    return (
        session.execute(
            query.order_by(
                DocumentRequest.kind, DocumentRequest.child_id, DocumentRequest.item_number
            )
        )
        .scalars()
        .all()
    )


def request(session: Session, request_id: uuid.UUID) -> DocumentRequest | None:
    return session.get(DocumentRequest, request_id)


def requests_about_child(
    session: Session, inspection_id: uuid.UUID, child_id: str
) -> Sequence[DocumentRequest]:
    """Every request of the inspection naming the child, withdrawn ones too (their documents
    stay), by kind and addressee."""
    return (
        session.execute(
            select(DocumentRequest)
            .where(
                DocumentRequest.inspection_id == inspection_id,
                DocumentRequest.child_id == child_id,
            )
            .order_by(DocumentRequest.kind, DocumentRequest.addressee_organisation_id)
        )
        .scalars()
        .all()
    )
