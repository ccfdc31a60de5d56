from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.audit import service
from app.audit.schemas import AuditEventRead, AuditPage, AuditVerification
from app.auth.deps import authorize
from app.auth.principal import Principal
from app.child_lists.access_log import child_access_log
from app.core.deps import DbSession
from app.core.errors import error_responses
from app.core.moments import Moment
from app.core.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from app.inspections.access import InspectionAccess, authorize_inspection

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get(
    "/inspections/{inspection_id}/audit",
    response_model=AuditPage,
    responses=error_responses(401, 403, 404, 422),
    summary="Read the inspection's audit trail, oldest first",
    description=(
        "The lead inspector sees every row whole. The operator sees each row without child "
        "identifiers, its detail reduced to counts and kinds and without hashes (`redacted`); "
        "searching by `child_id` is refused to the operator (403 `child_data_not_available`)."
    ),
)
def list_inspection_audit(
    session: DbSession,
    access: InspectionAccess = authorize_inspection("list_inspection_audit"),
    action: Annotated[str | None, Query(max_length=64)] = None,
    client_id: Annotated[uuid.UUID | None, Query(description="Only this actor")] = None,
    object_type: Annotated[str | None, Query(max_length=64)] = None,
    object_id: Annotated[str | None, Query(max_length=128)] = None,
    child_id: Annotated[str | None, Query(max_length=128)] = None,
    since: Annotated[Moment | None, Query()] = None,
    until: Annotated[Moment | None, Query()] = None,
    after_seq: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> AuditPage:
    criteria = service.AuditFilter(
        inspection_id=access.inspection.id,
        action=action,
        client_id=client_id,
        object_type=object_type,
        object_id=object_id,
        child_id=child_id,
        since=since,
        until=until,
    )
    views = service.read_inspection_audit(
        session,
        criteria,
        blind_to_children=access.principal.is_operator,
        after_seq=after_seq,
        limit=limit,
    )
    items = [AuditEventRead.model_validate(view) for view in views]
    return AuditPage(items=items, next_after_seq=items[-1].seq if len(items) == limit else None)


@router.get(
    "/inspections/{inspection_id}/children/{child_id}/access-log",
    response_model=AuditPage,
    responses=error_responses(401, 403, 404),
    summary="Who has seen this child's data (subject access), oldest first; lead inspector",
)
def get_child_access_log(
    child_id: str,
    session: DbSession,
    access: InspectionAccess = authorize_inspection("get_child_access_log"),
    after_seq: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> AuditPage:
    rows = child_access_log(
        session, access.inspection.id, child_id, after_seq=after_seq, limit=limit
    )
    items = [AuditEventRead.model_validate(row) for row in rows]
    return AuditPage(items=items, next_after_seq=items[-1].seq if len(items) == limit else None)


@router.get(
    "/audit/verify",
    response_model=AuditVerification,
    responses=error_responses(401, 403, 422),
    summary="Check the audit chain from the last anchor (or all of it); name the first broken row",
    description=(
        "By default the anchored row must still hold the last anchor's hash and the links "
        "after it are recomputed: the time taken follows the events since that anchor. "
        "`from=genesis` recomputes the whole chain and checks every anchor."
    ),
)
def verify_audit_chain(
    session: DbSession,
    principal: Principal = authorize("verify_audit_chain"),
    start: Annotated[
        Literal["anchor", "genesis"],
        Query(alias="from", description="Verify from the last anchor, or the whole chain"),
    ] = "anchor",
) -> AuditVerification:
    result = service.verify_chain(session, full=start == "genesis")
    return AuditVerification(
        valid=result.valid,
        events_checked=result.events_checked,
        from_seq=result.from_seq,
        head_seq=result.head_seq,
        first_broken_seq=result.first_broken_seq,
        problem=result.problem,
    )
