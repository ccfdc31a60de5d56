from __future__ import annotations

from fastapi import APIRouter, Response

from app.core.deps import DbSession
from app.core.errors import error_responses
from app.core.preconditions import IfMatchOnChange, etag, etag_responses, version_from_if_match
from app.engagement import service
from app.engagement.schemas import EngagementRead, EngagementWrite
from app.inspections.access import inspection_context
from app.inspections.context import InspectionContext

router = APIRouter(
    prefix="/v1/inspections/{inspection_id}/children/{child_id}/engagement",
    tags=["engagement"],
)


@router.put(
    "",
    response_model=EngagementRead,
    responses=etag_responses() | error_responses(401, 403, 404, 412, 422, 428),
    summary="Record whether a tracked child, parent and carer agreed to meet, and the arrangements",
    description=(
        "Written by the organisations the theme makes responsible for its engagement (or "
        "consent) milestone; others get 403 `not_responsible_for_engagement`. The first write "
        "needs no `If-Match`; every change after it must send the version it is based on "
        '(`If-Match: "3"`, from the ETag of a GET or PUT): 428 without it, 412 when stale.'
    ),
)
def put_engagement(
    child_id: str,
    body: EngagementWrite,
    response: Response,
    session: DbSession,
    if_match: IfMatchOnChange = None,
    context: InspectionContext = inspection_context("put_engagement"),
) -> EngagementRead:
    engagement = service.write_engagement(
        session, context, child_id, body, version_from_if_match(if_match)
    )
    response.headers["ETag"] = etag(engagement.version)
    return EngagementRead.model_validate(engagement)


@router.get(
    "",
    response_model=EngagementRead,
    responses=etag_responses() | error_responses(401, 403, 404),
    summary="The engagement record of a tracked child",
)
def get_engagement(
    child_id: str,
    response: Response,
    session: DbSession,
    context: InspectionContext = inspection_context("get_engagement"),
) -> EngagementRead:
    engagement = service.read_engagement(session, context, child_id)
    response.headers["ETag"] = etag(engagement.version)
    return EngagementRead.model_validate(engagement)
