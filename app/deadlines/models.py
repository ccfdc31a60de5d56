from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, utcnow


class MilestoneOverride(Base):
    """A milestone the lead inspector moved away from the theme's working-day rule."""

    __tablename__ = "milestone_overrides"

    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True
    )
    milestone_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    set_by_client_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
