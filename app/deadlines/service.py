"""When an inspection's milestones are due: working days from the notification, or where
the lead moved them. Pure arithmetic over the theme and the overrides; reads no other domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.core.clock import Clock
from app.core.database import utcnow
from app.core.errors import InvalidContent, NotFound, ProblemItem
from app.deadlines import repository
from app.deadlines.models import MilestoneOverride
from app.deadlines.working_days import milestone_due_at
from app.events import audiences as events
from app.inspections.context import Change, InspectionContext
from app.inspections.models import Inspection
from app.themes.schema.schedule import Milestone
from app.themes.schema.theme import Theme


def default_due_at(inspection: Inspection, milestone: Milestone, clock: Clock) -> datetime:
    return milestone_due_at(
        inspection.notification_at,
        milestone.working_days,
        milestone.due_time(),
        tz=clock.tz,
        end_of_day=clock.end_of_day,
    )


def due_at_for(
    session: Session, inspection: Inspection, theme: Theme, key: str, clock: Clock
) -> datetime | None:
    """When a milestone is due now (moved or not); None if the theme has no such milestone."""
    milestone = theme.get_milestone(key)
    if milestone is None:
        return None
    override = repository.override(session, inspection.id, key)
    return override.due_at if override else default_due_at(inspection, milestone, clock)


def move_milestone(
    session: Session, context: InspectionContext, key: str, due_at: datetime, reason: str
) -> MilestoneOverride:
    """Set a milestone's due time (the lead's call, with a reason); the requests it governs
    follow, and the move is audited with the due time it replaced."""
    inspection, theme = context.inspection, context.theme
    if theme.get_milestone(key) is None:
        raise NotFound(f"The theme '{theme.key}' has no milestone '{key}'.")
    if due_at < inspection.notification_at:
        raise InvalidContent(
            "A milestone cannot fall before the notification.",
            code="due_before_notification",
            errors=[
                ProblemItem(
                    field="body.due_at",
                    code="due_before_notification",
                    message="due_at must not be before the inspection's notification_at",
                )
            ],
        )
    override = repository.override(session, inspection.id, key)
    previous = override.due_at if override else None
    if override is None:
        override = MilestoneOverride(inspection_id=inspection.id, milestone_key=key)
        session.add(override)
    override.due_at, override.reason = due_at, reason
    override.set_by_client_id, override.set_at = context.actor.client_id, utcnow()
    session.flush()
    context.changed(session, Change.SCHEDULE)  # requests' due times follow their milestones
    audit.record(
        session,
        context.principal,
        "schedule.milestone_moved",
        "milestone",
        key,
        inspection_id=inspection.id,
        detail={
            "due_at": due_at.isoformat(),
            "previous_due_at": previous.isoformat() if previous else None,
            "reason": reason,
        },
    )
    events.milestone_moved(session, inspection.id, key)
    return override
