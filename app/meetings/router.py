from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.core.deps import DbSession
from app.core.errors import error_responses
from app.core.preconditions import IfMatch, etag, version_from_if_match
from app.inspections.access import inspection_context
from app.inspections.context import InspectionContext
from app.meetings import service
from app.meetings.models import Meeting
from app.meetings.schemas import MeetingRead, MeetingWrite

router = APIRouter(prefix="/v1/inspections/{inspection_id}/meetings", tags=["meetings"])


def _read(meeting: Meeting, others: list[Meeting]) -> MeetingRead:
    read = MeetingRead.model_validate(meeting)
    read.warnings = service.overlaps(meeting, others)
    return read


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
    context: InspectionContext = inspection_context("create_meeting"),
) -> MeetingRead:
    meeting = service.create_meeting(session, context, body)
    response.headers["ETag"] = etag(meeting.version)
    return _read(meeting, service.list_meetings(session, context.inspection.id))


@router.get(
    "",
    response_model=list[MeetingRead],
    responses=error_responses(401, 403, 404),
    summary="The meetings of the inspection, earliest first, each with its overlap warnings",
)
def list_meetings(
    session: DbSession,
    context: InspectionContext = inspection_context("list_meetings"),
) -> list[MeetingRead]:
    meetings = service.read_meetings(session, context)
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
    if_match: IfMatch = None,
    context: InspectionContext = inspection_context("update_meeting"),
) -> MeetingRead:
    meeting = service.update_meeting(
        session, context, meeting_id, body, version_from_if_match(if_match)
    )
    response.headers["ETag"] = etag(meeting.version)
    return _read(meeting, service.list_meetings(session, context.inspection.id))


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
    context: InspectionContext = inspection_context("delete_meeting"),
) -> Response:
    service.delete_meeting(session, context, meeting_id)
    return Response(status_code=204)
