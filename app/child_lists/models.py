from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, new_id, utcnow


class ListVersion(Base):
    """One accepted push of a child list: immutable, numbered per inspection and list."""

    __tablename__ = "list_versions"
    __table_args__ = (UniqueConstraint("inspection_id", "list_key", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    list_key: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    media_type: Mapped[str] = mapped_column(String(100))
    body_sha256: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    warning_count: Mapped[int] = mapped_column(Integer)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The field keys in the order of each row's cells: a row is stored as a JSON array, half
    # the bytes of an object repeating every key, which is most of what a push writes.
    columns: Mapped[list[str]] = mapped_column(JSON)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    late: Mapped[bool] = mapped_column(Boolean)


class ListRow(Base):
    """One child's row in one version: its cells as a JSON array in the version's column order.

    Keyed by (version, row number), the order every page is read in, so a push maintains one
    index besides the child lookup rather than a surrogate key and two more.
    """

    __tablename__ = "list_rows"
    __table_args__ = (Index("ix_list_rows_version_child", "version_id", "child_id"),)

    version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("list_versions.id", ondelete="CASCADE"), primary_key=True
    )
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    child_id: Mapped[str] = mapped_column(String(128))
    cells: Mapped[list[Any]] = mapped_column(JSON)
