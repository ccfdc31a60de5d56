from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, utcnow


class RequestKind(StrEnum):
    CASE_FILE = "case_file"  # a tracked child's case-file documents, from one agency
    INFORMATION_ITEM = "information_item"  # one of the theme's "other information" items
    CQC = "cqc"  # CQC's own request to a named health agency


class DocumentRequest(Base):
    """What is asked of whom: derived from the theme and the data, or made by CQC.

    Derived requests have ids that are a pure function of what they ask (uuid5), so deriving
    them again finds the same rows; ones that no longer apply (a child no longer tracked)
    are kept, withdrawn, with any documents already sent.
    """

    __tablename__ = "document_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[RequestKind] = mapped_column(
        Enum(
            RequestKind,
            native_enum=False,
            length=32,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    addressee_organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    child_id: Mapped[str | None] = mapped_column(String(128))
    item_number: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(JSON)
    milestone_key: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
