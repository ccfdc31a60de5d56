"""Reading tracked children's engagement records; no rules here."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engagement.models import Engagement


def engagement(session: Session, inspection_id: uuid.UUID, child_id: str) -> Engagement | None:
    return session.get(Engagement, (inspection_id, child_id))


def locked_engagement(
    session: Session, inspection_id: uuid.UUID, child_id: str
) -> Engagement | None:
    """The child's record, read afresh and locked (PostgreSQL) until the transaction ends."""
    return session.execute(
        select(Engagement)
        .where(Engagement.inspection_id == inspection_id, Engagement.child_id == child_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def confirmations(session: Session, inspection_id: uuid.UUID) -> dict[str, datetime]:
    """child -> when its written confirmation was recorded, for children that have one."""
    rows = session.execute(
        select(Engagement.child_id, Engagement.confirmation_recorded_at).where(
            Engagement.inspection_id == inspection_id,
            Engagement.confirmation_recorded_at.is_not(None),
        )
    ).all()
    return {child_id: recorded for child_id, recorded in rows if recorded is not None}


def engagements(session: Session, inspection_id: uuid.UUID) -> dict[str, Engagement]:
    """Every child's engagement record of the inspection, by child, in one query."""
    rows = session.execute(select(Engagement).where(Engagement.inspection_id == inspection_id))
    return {row.child_id: row for row in rows.scalars()}
