"""What has been asked and sent, per request and per agency: a view over requests, documents
and list pushes, read only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.child_lists.repository import versions_by_organisation
from app.document_requests import service as requests
from app.document_requests.models import DocumentRequest
from app.documents.models import Document
from app.documents.schemas import DocumentRead
from app.documents.service import documents_for
from app.inspections.context import InspectionContext
from app.inspections.service import participants
from app.organisations.kinds import AGENCY_KINDS
from app.submissions.schemas import RequestRead, RequestState, SubmissionRow


def _state(request: DocumentRequest, documents: Sequence[Document]) -> RequestState:
    if request.withdrawn:
        return RequestState.WITHDRAWN
    if not documents:
        return RequestState.OPEN
    first = min(document.created_at for document in documents)
    late = request.due_at is not None and first > request.due_at
    return RequestState.LATE if late else RequestState.ANSWERED


def read_models(session: Session, found: Sequence[DocumentRequest]) -> list[RequestRead]:
    """Requests with their documents and state (open, answered, late, withdrawn)."""
    documents = documents_for(session, [request.id for request in found])
    return [
        RequestRead(
            id=request.id,
            kind=request.kind,
            title=request.title,
            addressee_organisation_id=request.addressee_organisation_id,
            child_id=request.child_id,
            item_number=request.item_number,
            categories=request.categories,
            due_at=request.due_at,
            state=_state(request, documents[request.id]),
            documents=[DocumentRead.model_validate(d) for d in documents[request.id]],
        )
        for request in found
    ]


def visible_requests(session: Session, context: InspectionContext) -> list[RequestRead]:
    """What is asked of whom by when; an agency sees what is asked of it."""
    found = requests.visible_requests(session, context.inspection, context.actor)
    return read_models(session, found)


def submissions(
    session: Session, context: InspectionContext, organisation_id: uuid.UUID | None
) -> list[SubmissionRow]:
    """Per agency: the list versions it pushed, its documents and what is still open."""
    inspection, principal = context.inspection, context.actor
    members = [org for _, org in participants(session, [inspection.id])[inspection.id]]
    agencies = [org for org in members if org.kind in AGENCY_KINDS]
    if principal.is_agency:
        agencies = [org for org in agencies if org.id == principal.organisation_id]
    if organisation_id is not None:
        agencies = [org for org in agencies if org.id == organisation_id]
    asked = visible_requests(session, context)
    pushed = versions_by_organisation(session, inspection.id)  # one query, not one per agency
    rows = []
    for organisation in agencies:
        versions = pushed.get(organisation.id, [])
        mine = [r for r in asked if r.addressee_organisation_id == organisation.id]
        rows.append(
            SubmissionRow(
                organisation_id=organisation.id,
                organisation_name=organisation.name,
                kind=organisation.kind.value,
                list_versions=[
                    {
                        "list_key": v.list_key,
                        "number": v.number,
                        "created_at": v.created_at.isoformat(),
                        "late": v.late,
                        "rows": v.row_count,
                    }
                    for v in versions
                ],
                documents=[d for r in mine for d in r.documents],
                open_requests=[r for r in mine if r.state is RequestState.OPEN],
            )
        )
    return rows
