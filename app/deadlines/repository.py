"""Reading where the lead moved an inspection's milestones; no rules here."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.deadlines.models import MilestoneOverride


def override(session: Session, inspection_id: uuid.UUID, key: str) -> MilestoneOverride | None:
    """Where the lead moved the milestone to, if they did."""
    return session.get(MilestoneOverride, (inspection_id, key))


def overrides(session: Session, inspection_id: uuid.UUID) -> dict[str, MilestoneOverride]:
    """Every milestone of the inspection the lead moved, by key."""
    rows = session.execute(
        select(MilestoneOverride).where(MilestoneOverride.inspection_id == inspection_id)
    ).scalars()
    return {row.milestone_key: row for row in rows}
