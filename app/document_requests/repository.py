"""Reading document requests and the agencies they are asked of; no rules here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.document_requests.models import DocumentRequest, DocumentRequestAddressee
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
    """The inspection's requests derived from the theme (none that someone made), by id."""
    return {
        row.id: row
        for row in session.execute(
            select(DocumentRequest).where(
                DocumentRequest.inspection_id == inspection_id,
                DocumentRequest.created_by_client_id.is_(None),
            )
        ).scalars()
    }


def _asked_of(addressee_id: uuid.UUID) -> ColumnElement[bool]:
    return DocumentRequest.id.in_(
        select(DocumentRequestAddressee.request_id).where(
            DocumentRequestAddressee.organisation_id == addressee_id
        )
    )


def requests_of(
    session: Session, inspection_id: uuid.UUID, addressee_id: uuid.UUID | None
) -> Sequence[DocumentRequest]:
    """The inspection's requests (of one addressee, if named: those it is one of the
    addressees of), by kind, child and item."""
    query = select(DocumentRequest).where(DocumentRequest.inspection_id == inspection_id)
    if addressee_id is not None:
        query = query.where(_asked_of(addressee_id))
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


def is_addressed_to(session: Session, request_id: uuid.UUID, addressee_id: uuid.UUID) -> bool:
    """Whether the organisation is one of those the request is asked of (read from the
    database, not the session's memory)."""
    found = session.execute(
        select(DocumentRequestAddressee.request_id).where(
            DocumentRequestAddressee.request_id == request_id,
            DocumentRequestAddressee.organisation_id == addressee_id,
        )
    ).first()
    return found is not None


def addressees_of(
    session: Session, request_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Every organisation each request is asked of (the first addressee first, then by id),
    one query."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {request_id: [] for request_id in request_ids}
    if not request_ids:
        return found
    rows = session.execute(
        select(
            DocumentRequestAddressee.request_id,
            DocumentRequestAddressee.organisation_id,
            DocumentRequest.addressee_organisation_id,
        )
        .join(DocumentRequest, DocumentRequest.id == DocumentRequestAddressee.request_id)
        .where(DocumentRequestAddressee.request_id.in_(request_ids))
        .order_by(DocumentRequestAddressee.organisation_id)
    ).all()
    for request_id, organisation_id, first in rows:
        if organisation_id == first:
            found[request_id].insert(0, organisation_id)
        else:
            found[request_id].append(organisation_id)
    return found


def addressee_rows(
    session: Session, inspection_id: uuid.UUID
) -> dict[uuid.UUID, dict[uuid.UUID, DocumentRequestAddressee]]:
    """Every addressee row of the inspection's requests, by request and organisation."""
    rows = session.execute(
        select(DocumentRequestAddressee)
        .join(DocumentRequest, DocumentRequest.id == DocumentRequestAddressee.request_id)
        .where(DocumentRequest.inspection_id == inspection_id)
    ).scalars()
    found: dict[uuid.UUID, dict[uuid.UUID, DocumentRequestAddressee]] = {}
    for row in rows:
        found.setdefault(row.request_id, {})[row.organisation_id] = row
    return found


def set_addressees(
    session: Session,
    request: DocumentRequest,
    organisation_ids: Sequence[uuid.UUID],
    current: dict[uuid.UUID, DocumentRequestAddressee],
) -> None:
    """Make the request asked of exactly these organisations (the first is its first
    addressee); ``current``: its addressee rows as they stand."""
    request.addressee_organisation_id = organisation_ids[0]
    wanted = set(organisation_ids)
    for organisation_id, row in current.items():
        if organisation_id not in wanted:
            session.delete(row)
    for organisation_id in organisation_ids:
        if organisation_id not in current:
            session.add(
                DocumentRequestAddressee(request_id=request.id, organisation_id=organisation_id)
            )
