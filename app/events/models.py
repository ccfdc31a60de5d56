"""The outbox: one row per event, written in the transaction of the change it tells of.

Events are thin: a type, a time, the inspection, the resource's id and URL. Never child row
data, file names or free text; a recipient reads the resource itself, under its own access.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class Event(Base):
    """One event. Its id is its place in every feed, given in commit order (app.events.outbox)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    event_type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str] = mapped_column(String(128))
    resource_url: Mapped[str] = mapped_column(String(512))
    # Who may hear of it, besides the organisations named in event_recipients: the
    # inspectors on the inspection's team, and every organisation taking part.
    to_inspectors: Mapped[bool] = mapped_column(Boolean, default=False)
    to_participants: Mapped[bool] = mapped_column(Boolean, default=False)
    # Only principals holding this role hear of it (credential changes: "org_admin").
    required_role: Mapped[str | None] = mapped_column(String(32), default=None)


class EventRecipient(Base):
    """An organisation named as a recipient of an event (an addressee, a list's supplier)."""

    __tablename__ = "event_recipients"

    event_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, index=True)


class SentReminder(Base):
    """A deadline reminder already sent: one row per inspection, milestone, organisation
    reminded (the nil UUID stands for the inspection's inspectors), kind ("overdue",
    "approaching:2h") and the due time it was about. Inserted, or skipped on conflict, in
    the transaction of its event: the key is what makes a reminder go once across restarts
    and concurrent job runners. The due time is part of the key so that a milestone moved
    to another time is reminded of again for that time."""

    __tablename__ = "sent_reminders"

    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True
    )
    milestone_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
