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
    LEAD = "lead_request"  # the lead inspector's own request (a clarification, a missing plan)
    # The council's optional note on the area's context, for the lead's selection (no deadline)
    CONTEXT_NOTE = "context_note"


class DocumentRequest(Base):
    """What is asked of whom: derived from the theme and the data, or made by the lead or CQC.

    ``addressee_organisation_id`` is the first addressee; every addressee (one, or several
    for an item asked of the partnership, which any of them may answer) has a row in
    ``document_request_addressees``, which is what access and the agencies' views read.
    Requests someone made carry ``created_by_client_id``; derived ones have none.

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
    detail: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(JSON)
    milestone_key: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())


class DocumentRequestAddressee(Base):
    """One organisation a request is asked of; a partnership item has several, any of which
    may answer it for all."""

    __tablename__ = "document_request_addressees"

    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("document_requests.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
