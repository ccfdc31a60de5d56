from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, utcnow


class IdempotencyRecord(Base):
    """The first answer to a POST with an Idempotency-Key, replayed to its retries."""

    __tablename__ = "idempotency_records"

    client_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # in_progress | done
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # The first ID in the request's path (the inspection, request, upload, client... it acted
    # on), so that a purge or a disabled client takes the answers that concern it along.
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True, default=None)
    # Set instead of a body when the answer carried a secret: why a retry gets no replay.
    not_replayable: Mapped[str | None] = mapped_column(String(200), default=None)
