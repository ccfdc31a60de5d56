from __future__ import annotations

from fastapi import APIRouter, Response

from app.audit import chain as audit
from app.core.deps import DbSession, State
from app.core.errors import error_responses
from app.core.preconditions import IfMatchOnChange, etag, etag_responses, version_from_if_match
from app.engagement import service
from app.engagement.schemas import EngagementRead, EngagementWrite
from app.evaluations.service import require_tracked_child
from app.inspections.access import InspectionAccess, authorize_inspection

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
    state: State,
    if_match: IfMatchOnChange = None,
    access: InspectionAccess = authorize_inspection("put_engagement"),
) -> EngagementRead:
    inspection = access.inspection
    require_tracked_child(session, inspection.id, child_id)
    service.check_may_write(access.principal, state.themes.get(inspection.theme))
    service.check_body(body)
    engagement = service.save_engagement(
        session, inspection.id, child_id, access.principal, body, version_from_if_match(if_match)
    )
    audit.record(
        session,
        access.principal,
        "engagement.written",
        "engagement",
        child_id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={
            "version": engagement.version,
            "confirmed": body.confirmed_in_writing_at is not None,
        },
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
    access: InspectionAccess = authorize_inspection("get_engagement"),
) -> EngagementRead:
    inspection = access.inspection
    require_tracked_child(session, inspection.id, child_id)
    engagement = service.get_engagement(session, inspection.id, child_id)
    audit.record(
        session,
        access.principal,
        "engagement.read",
        "engagement",
        child_id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={"version": engagement.version},
    )
    response.headers["ETag"] = etag(engagement.version)
    return EngagementRead.model_validate(engagement)
