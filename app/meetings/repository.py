"""Reading an inspection's meetings and who may be in them; no rules here."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.inspections.models import InspectionParticipant
from app.meetings.models import Meeting


def participant_ids(session: Session, inspection_id: uuid.UUID) -> set[uuid.UUID]:
    """The organisations taking part in the inspection: who may be in its meetings."""
    return set(
        session.execute(
            select(InspectionParticipant.organisation_id).where(
                InspectionParticipant.inspection_id == inspection_id
            )
        ).scalars()
    )


def meeting(session: Session, meeting_id: uuid.UUID) -> Meeting | None:
    return session.get(Meeting, meeting_id)


def meetings_of(session: Session, inspection_id: uuid.UUID) -> list[Meeting]:
    """Every meeting of the inspection, earliest first."""
    return list(
        session.execute(
            select(Meeting)
            .where(Meeting.inspection_id == inspection_id)
            .order_by(Meeting.starts_at, Meeting.id)
        ).scalars()
    )


def recorded(session: Session, inspection_id: uuid.UUID) -> tuple[int, datetime | None]:
    """How many meetings are recorded, and when the first of them was."""
    count, first = session.execute(
        select(func.count(), func.min(Meeting.created_at)).where(
            Meeting.inspection_id == inspection_id
        )
    ).one()
    return int(count), first
