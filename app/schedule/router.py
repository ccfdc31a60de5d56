from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.core.database import utcnow
from app.core.deps import DbSession, State
from app.core.errors import error_responses
from app.document_requests.service import rederive_requests
from app.inspections.access import InspectionAccess, authorize_inspection
from app.inspections.models import Inspection
from app.schedule import service
from app.schedule.ics import render_calendar
from app.schedule.schemas import (
    ConditionRead,
    MilestoneMove,
    MilestoneRead,
    MilestoneUpdate,
    ScheduleRead,
)
from app.storage import download_headers
from app.themes.schema import Theme

router = APIRouter(prefix="/v1/inspections/{inspection_id}", tags=["schedule"])


def _read(status: service.MilestoneStatus) -> MilestoneRead:
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


def _schedule(
    session: Session, state: State, inspection: Inspection
) -> tuple[Theme, list[service.MilestoneStatus]]:
    theme = state.themes.get(inspection.theme)
    clock = service.Clock.from_settings(state.settings)
    return theme, service.schedule_for(session, inspection, theme, clock)


@router.get(
    "/schedule",
    response_model=ScheduleRead,
    responses=error_responses(401, 403, 404),
    summary="The inspection's milestones with due times and live states",
)
def get_schedule(
    session: DbSession,
    state: State,
    access: InspectionAccess = authorize_inspection("get_schedule"),
) -> ScheduleRead:
    theme, statuses = _schedule(session, state, access.inspection)
    return ScheduleRead(
        inspection_id=access.inspection.id,
        theme=theme.key,
        notification_at=access.inspection.notification_at,
        timezone=state.settings.timezone,
        milestones=[_read(status) for status in statuses],
    )


@router.get(
    "/schedule.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "iCalendar feed"},
        **error_responses(401, 403, 404),
    },
    summary="The schedule as an iCalendar feed",
)
def get_schedule_calendar(
    session: DbSession,
    state: State,
    access: InspectionAccess = authorize_inspection("get_schedule_calendar"),
) -> Response:
    theme, statuses = _schedule(session, state, access.inspection)
    name = f"JTAI {access.inspection.area_name}: {theme.title}"
    body = render_calendar(access.inspection.id, name, statuses, utcnow())
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
    state: State,
    access: InspectionAccess = authorize_inspection("move_milestone"),
) -> MilestoneRead:
    theme = state.themes.get(access.inspection.theme)
    _, previous = service.move_milestone(
        session,
        access.inspection,
        theme,
        milestone_key,
        body.due_at,
        body.reason,
        access.principal.client_id,
    )
    rederive_requests(session, access.inspection, state)  # their due times follow milestones
    audit.record(
        session,
        access.principal,
        "schedule.milestone_moved",
        "milestone",
        milestone_key,
        inspection_id=access.inspection.id,
        detail={
            "due_at": body.due_at.isoformat(),
            "previous_due_at": previous.isoformat() if previous else None,
            "reason": body.reason,
        },
    )
    _, statuses = _schedule(session, state, access.inspection)
    return _read(next(s for s in statuses if s.milestone.key == milestone_key))
