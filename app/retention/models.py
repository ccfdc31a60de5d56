from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, utcnow


class PurgeState(StrEnum):
    STARTED = "started"
    FINISHED = "finished"


class PurgeTombstone(Base):
    """What a purge removed from an inspection, by whom and when; one per inspection.

    Written as ``started`` before anything is deleted, so a purge that crashed half-way is
    visible and is continued by the next run; ``finished`` in the transaction that deleted
    the rows. Holds counts and SHA-256s only, never child data.
    """

    __tablename__ = "purge_tombstones"

    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="RESTRICT"), primary_key=True
    )
    state: Mapped[PurgeState] = mapped_column(
        Enum(
            PurgeState,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=PurgeState.STARTED,
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # "cli", "sweeper", or the operator client's id.
    purged_by: Mapped[str] = mapped_column(String(128))
    # True when the operator purged an inspection that was not yet closed (it is closed now).
    forced_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # kind -> rows deleted, e.g. {"documents": 3, "list_blocks": 12}
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # id -> SHA-256 of the bytes, so a copy kept elsewhere can still be matched to the record.
    document_sha256s: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    list_version_sha256s: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
