from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.child_lists.repository import versions_by_organisation
from app.core.deps import DbSession, State
from app.core.errors import Forbidden, error_responses
from app.document_requests import service
from app.document_requests.models import DocumentRequest
from app.document_requests.schemas import CqcRequestCreate, RequestRead, RequestState, SubmissionRow
from app.documents.models import Document
from app.documents.schemas import DocumentRead
from app.documents.service import documents_for
from app.inspections.access import InspectionAccess, authorize_inspection
from app.inspections.service import participants
from app.organisations.kinds import AGENCY_KINDS, OrganisationKind

router = APIRouter(prefix="/v1/inspections/{inspection_id}", tags=["requests"])


def _state(request: DocumentRequest, documents: Sequence[Document]) -> RequestState:
    if request.withdrawn:
        return RequestState.WITHDRAWN
    if not documents:
        return RequestState.OPEN
    first = min(document.created_at for document in documents)
    late = request.due_at is not None and first > request.due_at
    return RequestState.LATE if late else RequestState.ANSWERED


def read_models(session: Session, requests: Sequence[DocumentRequest]) -> list[RequestRead]:
    documents = documents_for(session, [request.id for request in requests])
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
        for request in requests
    ]


@router.get(
    "/requests",
    response_model=list[RequestRead],
    responses=error_responses(401, 403, 404),
    summary="What is asked of whom by when (agencies: what is asked of them)",
)
def list_requests(
    session: DbSession,
    state: State,
    access: InspectionAccess = authorize_inspection("list_requests"),
) -> list[RequestRead]:
    inspection = access.inspection
    return read_models(session, service.visible_requests(session, inspection, access.principal))


@router.post(
    "/requests",
    response_model=RequestRead,
    status_code=201,
    responses=error_responses(401, 403, 404, 422),
    summary="CQC asks a named health agency for documents",
)
def create_cqc_request(
    body: CqcRequestCreate,
    session: DbSession,
    access: InspectionAccess = authorize_inspection("create_cqc_request"),
) -> RequestRead:
    if access.principal.organisation_kind is not OrganisationKind.CQC:
        raise Forbidden("Only CQC inspectors make these requests.", code="not_cqc")
    request = service.create_cqc_request(
        session,
        access.inspection,
        access.principal,
        body.organisation_id,
        body.title,
        body.child_id,
        body.due_at,
    )
    audit.record(
        session,
        access.principal,
        "request.created",
        "request",
        request.id,
        inspection_id=access.inspection.id,
        child_id=body.child_id,
        detail={"organisation_id": str(body.organisation_id)},
    )
    return read_models(session, [request])[0]


@router.get(
    "/submissions",
    response_model=list[SubmissionRow],
    responses=error_responses(401, 403, 404),
    summary="Who has sent what: per organisation, its submissions and what is still open",
)
def list_submissions(
    session: DbSession,
    state: State,
    access: InspectionAccess = authorize_inspection("list_submissions"),
    organisation_id: Annotated[uuid.UUID | None, Query(description="Only this one")] = None,
) -> list[SubmissionRow]:
    inspection, principal = access.inspection, access.principal
    members = [org for _, org in participants(session, [inspection.id])[inspection.id]]
    agencies = [org for org in members if org.kind in AGENCY_KINDS]
    if principal.is_agency:
        agencies = [org for org in agencies if org.id == principal.organisation_id]
    if organisation_id is not None:
        agencies = [org for org in agencies if org.id == organisation_id]
    requests = read_models(session, service.visible_requests(session, inspection, principal))
    pushed = versions_by_organisation(session, inspection.id)  # one query, not one per agency
    rows = []
    for organisation in agencies:
        versions = pushed.get(organisation.id, [])
        mine = [r for r in requests if r.addressee_organisation_id == organisation.id]
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
