from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.core.deps import DbSession, State
from app.core.errors import error_responses
from app.core.preconditions import IfMatch, etag, version_from_if_match
from app.evaluations import service
from app.evaluations.schemas import EvaluationRead, EvaluationWrite
from app.inspections.access import InspectionAccess, authorize_inspection
from app.inspections.models import Inspection
from app.schedule.service import Clock, due_at_for
from app.themes.schema import Theme

router = APIRouter(
    prefix="/v1/inspections/{inspection_id}/children/{child_id}/evaluations",
    tags=["evaluations"],
)


def _due_at(
    session: Session, inspection: Inspection, theme: Theme, state: State
) -> datetime | None:
    """The due time of the milestone the theme meets with evaluations (the late flag's bar)."""
    milestone = theme.milestone_satisfied_by("evaluations_for_tracked_children")
    if milestone is None:
        return None
    return due_at_for(
        session, inspection, theme, milestone.key, Clock.from_settings(state.settings)
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
    state: State,
    if_match: IfMatch = None,
    access: InspectionAccess = authorize_inspection("put_evaluation"),
) -> EvaluationRead:
    inspection, principal = access.inspection, access.principal
    service.require_kind(kind)
    service.require_tracked_child(session, inspection.id, child_id)
    service.check_may_write(principal, inspection, kind)
    theme = state.themes.get(inspection.theme)
    service.check_body(session, inspection, theme, kind, body)
    new = service.NewEvaluation(
        inspection,
        child_id,
        kind,
        principal,
        body,
        version_from_if_match(if_match),
        _due_at(session, inspection, theme, state),
    )
    row = service.save_evaluation(session, new)
    audit.record(
        session,
        principal,
        "evaluation.written",
        "evaluation",
        row.id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={"kind": kind, "version": row.version, "late": row.late},
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
    access: InspectionAccess = authorize_inspection("get_evaluation"),
) -> EvaluationRead:
    inspection = access.inspection
    service.require_kind(kind)
    service.require_tracked_child(session, inspection.id, child_id)
    row = service.find_evaluation(
        session, access.principal, inspection.id, child_id, kind, organisation_id, version
    )
    audit.record(
        session,
        access.principal,
        "evaluation.read",
        "evaluation",
        row.id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={"kind": kind, "version": row.version},
    )
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
    access: InspectionAccess = authorize_inspection("list_evaluations"),
) -> list[EvaluationRead]:
    inspection = access.inspection
    service.require_tracked_child(session, inspection.id, child_id)
    rows = service.current_evaluations(session, access.principal, inspection.id, child_id)
    audit.record(
        session,
        access.principal,
        "evaluations.listed",
        "child",
        child_id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={"evaluations": [f"{row.kind}:{row.version}" for row in rows]},
    )
    return [EvaluationRead.model_validate(row) for row in rows]
