from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Enum, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, new_id, utcnow


class Document(Base):
    """A file an agency sent against a request: immutable once its bytes are verified."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("document_requests.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(127))
    object_key: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    late: Mapped[bool] = mapped_column(Boolean)
    # Which of the request's case-file kinds this is (``DocumentRequest.categories``); None
    # for a request without kinds, and on a case-file request for a document sent before
    # kinds were asked ("unspecified": it answers no kind). Versions run within one kind.
    document_kind: Mapped[str | None] = mapped_column(String(64))
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())


class NilReturn(Base):
    """An agency's answer of "none held" to a request, or to one kind of a case-file request.

    Kept when it stops applying: a later document of the kind withdraws it (naming the
    document), a later nil return of the kind replaces it (naming it as ``supersedes_id``).
    """

    __tablename__ = "nil_returns"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("document_requests.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    document_kind: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    late: Mapped[bool] = mapped_column(Boolean)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_document_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())


class UploadState(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    ABORTED = "aborted"
    # Claimed by one completion, which assembles and verifies it outside any transaction.
    COMPLETING = "completing"


class Upload(Base):
    """A presigned multipart upload in progress: the bytes go to the store, not through us."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("document_requests.id", ondelete="CASCADE"), index=True
    )
    inspection_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    filename: Mapped[str] = mapped_column(String(255))
    document_kind: Mapped[str | None] = mapped_column(String(64))  # checked when planned
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    sha256: Mapped[str] = mapped_column(String(64))
    part_size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    object_key: Mapped[str] = mapped_column(String(255), unique=True)
    store_upload_id: Mapped[str] = mapped_column(Text)
    state: Mapped[UploadState] = mapped_column(
        Enum(
            UploadState,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=UploadState.OPEN,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    document_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
