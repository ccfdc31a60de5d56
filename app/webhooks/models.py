"""A subscription and every attempt to deliver to it."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, new_id, utcnow

_BIG_INT = BigInteger().with_variant(Integer(), "sqlite")


class Webhook(Base):
    """An organisation's subscription. It hears exactly what its creating client would read in
    the feed, filtered by ``event_types``; its cursor is the position of the last event it is
    done with (delivered, or given up on after three days).

    The worker holding ``lease_owner`` until ``lease_until`` is the only one delivering to it;
    ``retry_*`` describe the event in flight while its receiver keeps failing.
    """

    __tablename__ = "webhooks"
    __table_args__ = (Index("ix_webhooks_due", "deleted_at", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    owner_client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_clients.id", ondelete="RESTRICT")
    )
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    # The signing key, "whsec_<base64>": needed in clear to sign, shown to the caller once.
    # Blanked when the subscription is deleted.
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    cursor_id: Mapped[int] = mapped_column(_BIG_INT, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The event being retried, how many attempts it has had, when it first failed, and when
    # the next attempt is due (None: deliverable now).
    retry_event_id: Mapped[int | None] = mapped_column(_BIG_INT, default=None)
    retry_attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"
    FAILED = "failed"


class WebhookDelivery(Base):
    """One attempt to deliver one event. The receiver's body is never stored: only its status
    code, or a short error of ours."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),)

    id: Mapped[int] = mapped_column(_BIG_INT, primary_key=True, autoincrement=True)
    webhook_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("webhooks.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(_BIG_INT)
    event_type: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(String(300), default=None)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    outcome: Mapped[str] = mapped_column(String(16))
