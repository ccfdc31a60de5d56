"""Reading the lead's selections; no rules here."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.selections.models import Selection


def selection(session: Session, inspection_id: uuid.UUID, key: str) -> Selection | None:
    """The inspection's selection of that key, if it has been made."""
    return session.get(Selection, (inspection_id, key))


def selected_children(session: Session, inspection_id: uuid.UUID) -> dict[str, frozenset[str]]:
    """Each selection of the inspection, by key: the children chosen in it."""
    rows = session.execute(select(Selection).where(Selection.inspection_id == inspection_id))
    return {row.key: frozenset(row.child_ids) for row in rows.scalars()}
