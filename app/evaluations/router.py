from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.core.deps import DbSession
from app.core.errors import error_responses
from app.core.preconditions import IfMatch, etag, version_from_if_match
from app.evaluations import service
from app.evaluations.schemas import EvaluationRead, EvaluationWrite
from app.inspections.access import inspection_context
from app.inspections.context import InspectionContext

router = APIRouter(
    prefix="/v1/inspections/{inspection_id}/children/{child_id}/evaluations",
    tags=["evaluations"],
)


@router.put(
    "/{kind}",
    response_model=EvaluationRead,
    responses=error_responses(401, 403, 404, 409, 412, 422),
    summary="Write the next version of the joint (local authority) or the caller's own evaluation",
)
def put_evaluation(
    child_id: str,
    kind: str,
    body: EvaluationWrite,
    response: Response,
    session: DbSession,
    if_match: IfMatch = None,
    context: InspectionContext = inspection_context("put_evaluation"),
) -> EvaluationRead:
    row = service.write_evaluation(
        session, context, child_id, kind, body, version_from_if_match(if_match)
    )
    response.headers["ETag"] = etag(row.version)
    return EvaluationRead.model_validate(row)


@router.get(
    "/{kind}",
    response_model=EvaluationRead,
    responses=error_responses(401, 403, 404, 422),
    summary="One evaluation of a tracked child: the current version, or the one asked for",
)
def get_evaluation(
    child_id: str,
    kind: str,
    response: Response,
    session: DbSession,
    organisation_id: Annotated[
        uuid.UUID | None,
        Query(description="Which agency's, when several of this kind have evaluated the child"),
    ] = None,
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="An earlier version")
    ] = None,
    context: InspectionContext = inspection_context("get_evaluation"),
) -> EvaluationRead:
    row = service.read_evaluation(session, context, child_id, kind, organisation_id, version)
    response.headers["ETag"] = etag(row.version)
    return EvaluationRead.model_validate(row)


@router.get(
    "",
    response_model=list[EvaluationRead],
    responses=error_responses(401, 403, 404),
    summary="The current evaluations of a tracked child that the caller may read",
)
def list_evaluations(
    child_id: str,
    session: DbSession,
    context: InspectionContext = inspection_context("list_evaluations"),
) -> list[EvaluationRead]:
    rows = service.list_child_evaluations(session, context, child_id)
    return [EvaluationRead.model_validate(row) for row in rows]
