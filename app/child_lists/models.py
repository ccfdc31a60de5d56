from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, UTCDateTime, new_id, utcnow


class ListVersion(Base):
    """One accepted push of a child list: immutable, numbered per contribution.

    A list may be compiled jointly (the theme names several responsible kinds of agency):
    each organisation's pushes make up its own *contribution*, numbered 1, 2, 3... for that
    inspection, list and organisation. The list as inspectors read it is the latest version of
    every contribution, merged. ``organisation_id`` is who pushed, so the supplier of the rows.
    """

    __tablename__ = "list_versions"
    __table_args__ = (UniqueConstraint("inspection_id", "list_key", "organisation_id", "number"),)

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
    # The field keys in the order they were stored and are shown.
    columns: Mapped[list[str]] = mapped_column(JSON)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    late: Mapped[bool] = mapped_column(Boolean)


class ListBlock(Base):
    """Up to ``BLOCK_ROWS`` consecutive rows of one version, column-wise (Arrow IPC, LZ4).

    A list is stored as a few blocks rather than a row per child: a push of 100,000 rows writes
    a hundred blocks, not 100,000 rows and their index entries, which is what made storing
    cost several times PostgreSQL's own COPY. Pages read the one or two blocks they cover;
    filters and sorts run column-wise on the version's blocks. ``child_ids`` lists the block's
    child IDs, one per line between newlines, so "which lists name this child" stays a query.
    """

    __tablename__ = "list_blocks"

    version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("list_versions.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Where the block starts among the version's rows (0-based): pages find their blocks by
    # it, whatever size the blocks were written in.
    first_row: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(Integer)
    child_ids: Mapped[str] = mapped_column(Text)
    # Compressed already: PostgreSQL keeps it uncompressed (STORAGE EXTERNAL, migration lb1).
    data: Mapped[bytes] = mapped_column(LargeBinary)
