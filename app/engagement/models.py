from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, utcnow


class Engagement(Base):
    """Whether a tracked child, parent and carer agreed to meet inspectors, and the arrangements."""

    __tablename__ = "engagements"

    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True
    )
    child_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    child_agreed: Mapped[bool | None] = mapped_column(Boolean)
    parent_agreed: Mapped[bool | None] = mapped_column(Boolean)
    carer_agreed: Mapped[bool | None] = mapped_column(Boolean)
    reason_when_not: Mapped[str | None] = mapped_column(Text)
    arrangements: Mapped[str | None] = mapped_column(Text)
    confirmed_in_writing_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the service first learnt of the written confirmation: the milestone is judged on
    # this, not on the date the caller states, which could be back-dated.
    confirmation_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by_client_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    changed_by_organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid())
