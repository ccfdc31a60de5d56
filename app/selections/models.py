from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, utcnow


class Selection(Base):
    """The lead inspector's current choice of children for one of the theme's selections."""

    __tablename__ = "selections"

    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    child_ids: Mapped[list[str]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    first_made_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by_client_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    # The lead's reason for departing from the guidance where the theme leaves a rule to
    # judgement, and the rules this choice departed from (rule, code, children, paragraphs).
    override_reason: Mapped[str | None] = mapped_column(Text(), nullable=True)
    overrides: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
