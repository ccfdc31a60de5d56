from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from app.core.moments import Instant, Moment
from app.schedule.live import MilestoneState


class ConditionRead(BaseModel):
    kind: str = Field(description="What satisfies the milestone (from the theme)")
    met_at: Instant | None
    description: str | None = Field(description="What satisfied it, once it is met")


class MilestoneMove(BaseModel):
    reason: str
    moved_by_client_id: uuid.UUID
    moved_at: Instant


class MilestoneRead(BaseModel):
    key: str
    title: str
    responsible: list[str]
    working_days: int = Field(description="Offset from the notification day D0 in working days")
    at: str = Field(description="Time of day (HH:MM, Europe/London) or end_of_day")
    note: str | None
    due_at: Instant = Field(description="When it is due, with its UTC offset")
    default_due_at: Instant
    state: MilestoneState
    met_at: Instant | None
    satisfied_by: list[ConditionRead]
    moved: MilestoneMove | None


class ScheduleRead(BaseModel):
    inspection_id: uuid.UUID
    theme: str
    notification_at: Instant
    timezone: str
    milestones: list[MilestoneRead]


class MilestoneUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_at: Moment
    reason: str = Field(min_length=3, max_length=1000)
