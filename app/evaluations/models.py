from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, new_id, utcnow

# The kind of the partnership's joint evaluation; any other kind is an agency's own.
JOINT = "joint"


class Evaluation(Base):
    """One version of a joint or single-agency evaluation of a tracked child.

    Every PUT adds a row, so earlier versions stay; the highest ``version`` of an
    (inspection, child, kind, organisation) is the current one.
    """

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("inspection_id", "child_id", "kind", "organisation_id", "version"),
        Index("ix_evaluations_inspection_child", "inspection_id", "child_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE")
    )
    child_id: Mapped[str] = mapped_column(String(128))
    # "joint", or the writing organisation's kind for a single-agency evaluation.
    kind: Mapped[str] = mapped_column(String(32))
    # The writer: the local authority for a joint evaluation, else the agency itself.
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, str]] = mapped_column(JSON)
    summary: Mapped[str | None] = mapped_column(Text)
    contributing_organisation_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    late: Mapped[bool] = mapped_column(Boolean)
