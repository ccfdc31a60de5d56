from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime


class AuditEvent(Base):
    """One link of the append-only hash chain. Never updated, never deleted."""

    __tablename__ = "audit_events"
    # An inspection's trail in chain order: its audit page and a child's access log read the
    # next ``limit`` rows after a seq from here, however long the chain and the trail grow.
    # With inspection_id alone, PostgreSQL either fetched and sorted every row of the
    # inspection for each page, or walked the whole chain in seq order from ``after_seq``
    # until the page filled: 190 ms for a page across a million others' events (migration ai1).
    __table_args__ = (Index("ix_audit_events_inspection_seq", "inspection_id", "seq"),)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(128))
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    child_id: Mapped[str | None] = mapped_column(String(128))
    request_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, object]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class PendingRead(Base):
    """A read recorded but not yet linked into the chain: reads append here without taking
    the head's lock, and the sequencer (app.audit.sequencer) moves them into the chain in the
    order of ``id``, deleting them in the same transaction. Never updated."""

    __tablename__ = "audit_pending_reads"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(128))
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    child_id: Mapped[str | None] = mapped_column(String(128))
    request_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, object]] = mapped_column(JSON)


class AuditHead(Base):
    """The chain's tip, one row; writers lock it so concurrent commits extend one chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(Base):
    """A head hash written down (and printed for keeping outside the database)."""

    __tablename__ = "audit_anchors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
