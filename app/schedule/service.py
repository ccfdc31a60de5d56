"""The live schedule of an inspection: due times in working days, states from the data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.database import utcnow
from app.core.errors import InvalidContent, NotFound, ProblemItem
from app.inspections.models import Inspection
from app.schedule.models import MilestoneOverride
from app.schedule.satisfaction import CheckContext, Evidence, check_for
from app.schedule.working_days import END_OF_DAY, milestone_due_at
from app.themes.schema import Milestone, Theme


class MilestoneState(StrEnum):
    PENDING = "pending"
    MET = "met"
    LATE = "late"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class ConditionStatus:
    kind: str
    met_at: datetime | None
    description: str | None


@dataclass(frozen=True)
class MilestoneStatus:
    milestone: Milestone
    due_at: datetime
    default_due_at: datetime
    state: MilestoneState
    met_at: datetime | None
    conditions: list[ConditionStatus]
    override: MilestoneOverride | None


@dataclass(frozen=True)
class Clock:
    """The schedule's time zone and what "end of day" means for this deployment."""

    tz: ZoneInfo
    end_of_day: time

    @classmethod
    def from_settings(cls, settings: Settings) -> Clock:
        end = END_OF_DAY
        if settings.office_hours_end:
            hours, minutes = settings.office_hours_end.split(":")
            end = time(int(hours), int(minutes))
        return cls(ZoneInfo(settings.timezone), end)


def default_due_at(inspection: Inspection, milestone: Milestone, clock: Clock) -> datetime:
    return milestone_due_at(
        inspection.notification_at,
        milestone.working_days,
        milestone.due_time(),
        tz=clock.tz,
        end_of_day=clock.end_of_day,
    )


def _overrides(session: Session, inspection_id: uuid.UUID) -> dict[str, MilestoneOverride]:
    rows = session.execute(
        select(MilestoneOverride).where(MilestoneOverride.inspection_id == inspection_id)
    ).scalars()
    return {row.milestone_key: row for row in rows}


def _state(due_at: datetime, met_at: datetime | None, now: datetime) -> MilestoneState:
    if met_at is not None:
        return MilestoneState.MET if met_at <= due_at else MilestoneState.LATE
    return MilestoneState.PENDING if now < due_at else MilestoneState.OVERDUE


def _conditions(context: CheckContext, milestone: Milestone) -> list[ConditionStatus]:
    statuses = []
    for condition in milestone.satisfied_by:
        evidence: Evidence | None = check_for(condition.kind)(context, condition)
        statuses.append(
            ConditionStatus(
                condition.kind,
                evidence.met_at if evidence else None,
                evidence.description if evidence else None,
            )
        )
    return statuses


def schedule_for(
    session: Session,
    inspection: Inspection,
    theme: Theme,
    clock: Clock,
    now: datetime | None = None,
) -> list[MilestoneStatus]:
    now = now or utcnow()
    overrides = _overrides(session, inspection.id)
    statuses = []
    for milestone in sorted(theme.milestones, key=lambda m: m.order_key()):
        default = default_due_at(inspection, milestone, clock)
        override = overrides.get(milestone.key)
        due_at = override.due_at.astimezone(clock.tz) if override else default
        context = CheckContext(session, inspection, theme, due_at, now)
        conditions = _conditions(context, milestone)
        # A milestone with several conditions is met when the last of them is.
        met_times = [c.met_at for c in conditions]
        met_at = None if None in met_times else max(t for t in met_times if t is not None)
        statuses.append(
            MilestoneStatus(
                milestone,
                due_at,
                default,
                _state(due_at, met_at, now),
                met_at,
                conditions,
                override,
            )
        )
    return statuses


def due_at_for(
    session: Session, inspection: Inspection, theme: Theme, key: str, clock: Clock
) -> datetime | None:
    """When a milestone is due now (moved or not); None if the theme has no such milestone."""
    milestone = theme.get_milestone(key)
    if milestone is None:
        return None
    override = session.get(MilestoneOverride, (inspection.id, key))
    return override.due_at if override else default_due_at(inspection, milestone, clock)


def move_milestone(
    session: Session,
    inspection: Inspection,
    theme: Theme,
    key: str,
    due_at: datetime,
    reason: str,
    client_id: uuid.UUID,
) -> tuple[MilestoneOverride, datetime | None]:
    """Set a milestone's due time; answers the override and the due time it replaced."""
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
    override = session.get(MilestoneOverride, (inspection.id, key))
    previous = override.due_at if override else None
    if override is None:
        override = MilestoneOverride(inspection_id=inspection.id, milestone_key=key)
        session.add(override)
    override.due_at, override.reason = due_at, reason
    override.set_by_client_id, override.set_at = client_id, utcnow()
    session.flush()
    return override, previous
