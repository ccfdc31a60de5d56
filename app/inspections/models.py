from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, new_id, utcnow


class InspectionStatus(StrEnum):
    NOTIFIED = "notified"
    FIELDWORK = "fieldwork"
    REPORTING = "reporting"
    CLOSED = "closed"


STATUS_ORDER = list(InspectionStatus)


class Inspection(Base):
    __tablename__ = "inspections"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_name: Mapped[str] = mapped_column(String(200))
    local_authority_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    theme: Mapped[str] = mapped_column(String(64))
    notification_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[InspectionStatus] = mapped_column(
        Enum(
            InspectionStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=InspectionStatus.NOTIFIED,
    )
    lead_client_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_clients.id", ondelete="RESTRICT"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class InspectionParticipant(Base):
    """An organisation taking part in an inspection: an agency of the area or an inspectorate."""

    __tablename__ = "inspection_participants"

    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InspectionTeamMember(Base):
    """An inspector named to an inspection's team. Inspectors read an inspection only while
    on its team (the lead always is): taking part is an organisation's, the team a person's."""

    __tablename__ = "inspection_team_members"

    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True
    )
    principal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_clients.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    # The organisation the member was named for: a person whose identity provider later says
    # another organisation is not on the team for that one.
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
