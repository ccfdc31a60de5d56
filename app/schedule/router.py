from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from app.core.database import utcnow
from app.core.deps import DbSession
from app.core.errors import error_responses
from app.deadlines import service as deadlines
from app.inspections.access import inspection_context
from app.inspections.context import InspectionContext
from app.schedule import live
from app.schedule.ics import render_calendar
from app.schedule.schemas import (
    ConditionRead,
    MilestoneMove,
    MilestoneRead,
    MilestoneUpdate,
    ScheduleRead,
)
from app.storage import download_headers

router = APIRouter(prefix="/v1/inspections/{inspection_id}", tags=["schedule"])


def _read(status: live.MilestoneStatus) -> MilestoneRead:
    milestone, override = status.milestone, status.override
    return MilestoneRead(
        key=milestone.key,
        title=milestone.title,
        responsible=list(milestone.responsible),
        working_days=milestone.working_days,
        at=milestone.at,
        note=milestone.note,
        due_at=status.due_at,
        default_due_at=status.default_due_at,
        state=status.state,
        met_at=status.met_at,
        satisfied_by=[
            ConditionRead(kind=c.kind, met_at=c.met_at, description=c.description)
            for c in status.conditions
        ],
        moved=MilestoneMove(
            reason=override.reason,
            moved_by_client_id=override.set_by_client_id,
            moved_at=override.set_at,
        )
        if override
        else None,
    )


def _schedule(session: Session, context: InspectionContext) -> list[live.MilestoneStatus]:
    return live.schedule_for(session, context.inspection, context.theme, context.clock)


@router.get(
    "/schedule",
    response_model=ScheduleRead,
    responses=error_responses(401, 403, 404),
    summary="The inspection's milestones with due times and live states",
)
def get_schedule(
    session: DbSession,
    context: InspectionContext = inspection_context("get_schedule"),
) -> ScheduleRead:
    statuses = _schedule(session, context)
    return ScheduleRead(
        inspection_id=context.inspection.id,
        theme=context.theme.key,
        notification_at=context.inspection.notification_at,
        timezone=context.clock.tz.key,
        milestones=[_read(status) for status in statuses],
    )


@router.get(
    "/schedule.ics",
    response_class=Response,
    responses={
        200: {
            "content": {"text/calendar": {"schema": {"type": "string"}}},
            "description": "iCalendar feed (RFC 5545)",
        },
        **error_responses(401, 403, 404),
    },
    summary="The schedule as an iCalendar feed",
)
def get_schedule_calendar(
    session: DbSession,
    context: InspectionContext = inspection_context("get_schedule_calendar"),
) -> Response:
    statuses = _schedule(session, context)
    name = f"JTAI {context.inspection.area_name}: {context.theme.title}"
    body = render_calendar(context.inspection.id, name, statuses, utcnow())
    return Response(
        body, media_type="text/calendar; charset=utf-8", headers=download_headers("schedule.ics")
    )


@router.put(
    "/schedule/{milestone_key}",
    response_model=MilestoneRead,
    responses=error_responses(401, 403, 404, 422),
    summary="Move one milestone (lead inspector), with a reason",
)
def move_milestone(
    milestone_key: str,
    body: MilestoneUpdate,
    session: DbSession,
    context: InspectionContext = inspection_context("move_milestone"),
) -> MilestoneRead:
    deadlines.move_milestone(session, context, milestone_key, body.due_at, body.reason)
    statuses = _schedule(session, context)
    return _read(next(s for s in statuses if s.milestone.key == milestone_key))
