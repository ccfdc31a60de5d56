"""The live schedule of an inspection: each milestone's due time and its state, read from
what every domain holds (lists pushed, documents sent, evaluations written, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from app.core.clock import Clock
from app.core.database import utcnow
from app.deadlines import repository as deadlines
from app.deadlines.models import MilestoneOverride
from app.deadlines.service import default_due_at
from app.inspections.models import Inspection
from app.schedule.satisfaction import CheckContext, Evidence, check_for
from app.themes.schema.schedule import Milestone
from app.themes.schema.theme import Theme


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
    overrides = deadlines.overrides(session, inspection.id)
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
