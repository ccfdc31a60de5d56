from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, new_id, utcnow


class TrackingRecord(Base):
    """One version of an inspector's Annex B record for a tracked child.

    Keyed by the inspector's client: each inspector has their own record per child, and a
    PUT can only ever address the caller's own.
    """

    __tablename__ = "tracking_records"
    __table_args__ = (
        UniqueConstraint("inspection_id", "child_id", "inspector_client_id", "version"),
        Index("ix_tracking_records_inspection_child", "inspection_id", "child_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE")
    )
    child_id: Mapped[str] = mapped_column(String(128))
    inspector_client_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    version: Mapped[int] = mapped_column(Integer)
    header: Mapped[dict[str, Any]] = mapped_column(JSON)
    # question key -> {"summary": str, "esn": [int, ...]}
    summaries: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
