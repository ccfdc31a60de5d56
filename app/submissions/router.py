from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.core.deps import DbSession
from app.core.errors import error_responses
from app.document_requests import asking
from app.document_requests.asking import Asked
from app.document_requests.schemas import RequestCreate
from app.inspections.access import inspection_context
from app.inspections.context import InspectionContext
from app.submissions import service
from app.submissions.schemas import RequestRead, SubmissionRow

router = APIRouter(prefix="/v1/inspections/{inspection_id}", tags=["requests"])


@router.get(
    "/requests",
    response_model=list[RequestRead],
    responses=error_responses(401, 403, 404),
    summary="What is asked of whom by when (agencies: what is asked of them)",
)
def list_requests(
    session: DbSession,
    context: InspectionContext = inspection_context("list_requests"),
) -> list[RequestRead]:
    return service.visible_requests(session, context)


@router.post(
    "/requests",
    response_model=RequestRead,
    status_code=201,
    responses=error_responses(401, 403, 404, 422),
    summary="The lead asks agencies taking part for something; CQC asks health agencies",
)
def create_request(
    body: RequestCreate,
    session: DbSession,
    context: InspectionContext = inspection_context("create_request"),
) -> RequestRead:
    asked = Asked(
        body.addressees, body.title, body.detail, body.child_id, body.item_number, body.due_at
    )
    request = asking.create_request(session, context, asked)
    return service.read_models(session, context, [request])[0]


@router.get(
    "/submissions",
    response_model=list[SubmissionRow],
    responses=error_responses(401, 403, 404),
    summary="Who has sent what: per organisation, its submissions and what is still open",
)
def list_submissions(
    session: DbSession,
    context: InspectionContext = inspection_context("list_submissions"),
    organisation_id: Annotated[uuid.UUID | None, Query(description="Only this one")] = None,
) -> list[SubmissionRow]:
    return service.submissions(session, context, organisation_id)
