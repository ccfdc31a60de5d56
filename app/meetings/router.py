from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.principal import Principal
from app.core.deps import DbSession, State
from app.core.errors import error_responses
from app.core.preconditions import IfMatch, etag, version_from_if_match
from app.inspections.access import InspectionAccess, authorize_inspection
from app.meetings import service
from app.meetings.models import Meeting
from app.meetings.schemas import MeetingRead, MeetingWrite

router = APIRouter(prefix="/v1/inspections/{inspection_id}/meetings", tags=["meetings"])


def _read(meeting: Meeting, others: list[Meeting]) -> MeetingRead:
    read = MeetingRead.model_validate(meeting)
    read.warnings = service.overlaps(meeting, others)
    return read


def _audit(
    session: Session, principal: Principal, action: str, meeting: Meeting, **detail: object
) -> None:
    audit.record(
        session,
        principal,
        action,
        "meeting",
        meeting.id,
        inspection_id=meeting.inspection_id,
        detail={"kind": meeting.kind, "child_ids": meeting.child_ids, **detail},
    )


@router.post(
    "",
    response_model=MeetingRead,
    status_code=201,
    responses=error_responses(401, 403, 404, 422),
    summary="Record a multi-agency meeting (the inspection's local authority)",
)
def create_meeting(
    body: MeetingWrite,
    response: Response,
    session: DbSession,
    state: State,
    access: InspectionAccess = authorize_inspection("create_meeting"),
) -> MeetingRead:
    inspection = access.inspection
    service.check_may_write(access.principal, inspection)
    service.check_meeting(session, inspection, state.themes.get(inspection.theme), body)
    meeting = service.create_meeting(session, inspection, body, access.principal)
    _audit(session, access.principal, "meeting.created", meeting)
    response.headers["ETag"] = etag(meeting.version)
    return _read(meeting, service.list_meetings(session, inspection.id))


@router.get(
    "",
    response_model=list[MeetingRead],
    responses=error_responses(401, 403, 404),
    summary="The meetings of the inspection, earliest first, each with its overlap warnings",
)
def list_meetings(
    session: DbSession,
    access: InspectionAccess = authorize_inspection("list_meetings"),
) -> list[MeetingRead]:
    meetings = service.list_meetings(session, access.inspection.id)
    audit.record(
        session,
        access.principal,
        "meetings.listed",
        "inspection",
        access.inspection.id,
        inspection_id=access.inspection.id,
        detail={"meetings": len(meetings)},
    )
    return [_read(meeting, meetings) for meeting in meetings]


@router.put(
    "/{meeting_id}",
    response_model=MeetingRead,
    responses=error_responses(401, 403, 404, 412, 422),
    summary="Change a meeting (the inspection's local authority)",
)
def update_meeting(
    meeting_id: uuid.UUID,
    body: MeetingWrite,
    response: Response,
    session: DbSession,
    state: State,
    if_match: IfMatch = None,
    access: InspectionAccess = authorize_inspection("update_meeting"),
) -> MeetingRead:
    inspection = access.inspection
    service.check_may_write(access.principal, inspection)
    meeting = service.get_meeting(session, inspection.id, meeting_id)
    service.check_meeting(session, inspection, state.themes.get(inspection.theme), body)
    service.update_meeting(meeting, body, access.principal, version_from_if_match(if_match))
    session.flush()
    _audit(session, access.principal, "meeting.changed", meeting, version=meeting.version)
    response.headers["ETag"] = etag(meeting.version)
    return _read(meeting, service.list_meetings(session, inspection.id))


@router.delete(
    "/{meeting_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404),
    summary="Remove a meeting (the inspection's local authority)",
)
def delete_meeting(
    meeting_id: uuid.UUID,
    session: DbSession,
    access: InspectionAccess = authorize_inspection("delete_meeting"),
) -> Response:
    service.check_may_write(access.principal, access.inspection)
    meeting = service.get_meeting(session, access.inspection.id, meeting_id)
    _audit(session, access.principal, "meeting.deleted", meeting)
    session.delete(meeting)
    session.flush()
    return Response(status_code=204)
