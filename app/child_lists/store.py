"""Storing and reading list versions; no HTTP and no parsing here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, bindparam, func, insert, select
from sqlalchemy.orm import Session, defer

from app.child_lists.models import ListRow, ListVersion

INSERT_BATCH = 5000


def current_versions(
    session: Session, inspection_id: uuid.UUID, list_keys: Iterable[str] | None = None
) -> dict[str, ListVersion]:
    """The latest version of each list (of the given keys) that has been pushed."""
    latest = (
        select(ListVersion.list_key, func.max(ListVersion.number).label("number"))
        .where(ListVersion.inspection_id == inspection_id)
        .group_by(ListVersion.list_key)
    )
    if list_keys is not None:
        latest = latest.where(ListVersion.list_key.in_(list(list_keys)))
    subquery = latest.subquery()
    rows = session.execute(
        select(ListVersion).join(
            subquery,
            (ListVersion.list_key == subquery.c.list_key)
            & (ListVersion.number == subquery.c.number)
            & (ListVersion.inspection_id == inspection_id),
        )
    ).scalars()
    return {version.list_key: version for version in rows}


def first_pushes(session: Session, inspection_id: uuid.UUID) -> dict[str, datetime]:
    """When each list was first accepted: what a list milestone is met by."""
    rows = session.execute(
        select(ListVersion.list_key, func.min(ListVersion.created_at))
        .where(ListVersion.inspection_id == inspection_id)
        .group_by(ListVersion.list_key)
    ).all()
    return {key: _aware(moment) for key, moment in rows}


def as_utc(moment: datetime | str | None) -> datetime | None:
    return None if moment is None else _aware(moment)


def _aware(moment: datetime | str) -> datetime:
    # An aggregate loses the column's type on SQLite, which hands back text or naive values.
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# Every read of a list starts here: built once, so SQLAlchemy neither rebuilds nor re-keys it.
# The warnings (up to a thousand) are left unread until asked for: pages never show them.
_LATEST_VERSION = (
    select(ListVersion)
    .options(defer(ListVersion.warnings))
    .where(
        ListVersion.inspection_id == bindparam("inspection_id"),
        ListVersion.list_key == bindparam("list_key"),
    )
    .order_by(ListVersion.number.desc())
    .limit(1)
)


def latest_version(session: Session, inspection_id: uuid.UUID, list_key: str) -> ListVersion | None:
    """The current version of one list: one index probe."""
    found = session.execute(_LATEST_VERSION, {"inspection_id": inspection_id, "list_key": list_key})
    return found.scalar_one_or_none()


def versions_by_organisation(
    session: Session, inspection_id: uuid.UUID
) -> dict[uuid.UUID, list[ListVersion]]:
    """Every version pushed in an inspection, grouped by who pushed it, oldest first."""
    grouped: dict[uuid.UUID, list[ListVersion]] = {}
    rows = session.execute(
        select(ListVersion)
        .where(ListVersion.inspection_id == inspection_id)
        .order_by(ListVersion.created_at)
    ).scalars()
    for version in rows:
        grouped.setdefault(version.organisation_id, []).append(version)
    return grouped


def version_by_number(
    session: Session, inspection_id: uuid.UUID, list_key: str, number: int
) -> ListVersion | None:
    return session.execute(
        select(ListVersion).where(
            ListVersion.inspection_id == inspection_id,
            ListVersion.list_key == list_key,
            ListVersion.number == number,
        )
    ).scalar_one_or_none()


def history(session: Session, inspection_id: uuid.UUID, list_key: str) -> Sequence[ListVersion]:
    return (
        session.execute(
            select(ListVersion)
            .where(ListVersion.inspection_id == inspection_id, ListVersion.list_key == list_key)
            .order_by(ListVersion.number.desc())
        )
        .scalars()
        .all()
    )


@dataclass(frozen=True)
class StoredRow:
    """A row as read back: its cells keyed by field again."""

    version_id: uuid.UUID
    row_number: int
    child_id: str
    data: dict[str, Any]


def insert_rows(
    session: Session,
    version: ListVersion,
    rows: Sequence[Mapping[str, Any]],
    row_numbers: Sequence[int],
    child_id_field: str,
) -> None:
    """Store rows given as dicts (tests and small pushes); see ``insert_frame`` for bulk."""
    frame = pl.DataFrame(list(rows), infer_schema_length=None) if rows else pl.DataFrame()
    version.columns = list(frame.columns)
    session.flush()
    insert_frame(session, version, frame, row_numbers, child_id_field)


def insert_frame(
    session: Session,
    version: ListVersion,
    frame: pl.DataFrame,
    row_numbers: Sequence[int],
    child_id_field: str,
) -> None:
    """Bulk-load a validated list: COPY on PostgreSQL, batched INSERTs elsewhere.

    Each row's JSON array is built column-wise by polars, not row by row in Python, because
    that is most of the cost of storing a hundred thousand rows; a slice at a time, so the
    encoded rows never all sit in memory together.
    """
    if frame.height == 0:
        return
    if list(frame.columns) != list(version.columns):
        raise ValueError("the frame's columns are not the version's")
    numbered = frame.with_columns(pl.Series(_ROW, list(row_numbers), dtype=pl.Int64))
    batches = (
        batch.select(
            pl.col(_ROW),
            pl.col(child_id_field).cast(pl.String).alias(_CHILD),
            _json_array(version.columns).alias(_CELLS),
        )
        for batch in numbered.iter_slices(INSERT_BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, version.id, batches)
        return
    for batch in batches:
        session.execute(
            insert(ListRow),
            [
                {"version_id": version.id, "row_number": n, "child_id": c, "cells": json.loads(d)}
                for n, c, d in batch.iter_rows()
            ],
        )


_ROW, _CHILD, _CELLS = "__row", "__child", "__cells"


def _json_array(columns: Sequence[str]) -> pl.Expr:
    """Each row's cells as JSON array text, encoded by polars in Rust.

    polars encodes structs, not bare values: each cell is encoded as ``{"v":...}`` and the
    five-character prefix and closing brace cut off, which leaves exactly the value's JSON.
    """
    cells = [
        pl.struct(pl.col(name).alias("v")).struct.json_encode().str.slice(5).str.head(-1)
        for name in columns
    ]
    return pl.concat_str([pl.lit("["), pl.concat_str(cells, separator=","), pl.lit("]")])


def _copy_text(column: pl.Expr) -> pl.Expr:
    """Escape a value for COPY's text format, where backslash, tab and line ends are special."""
    return (
        column.str.replace_all("\\", "\\\\", literal=True)
        .str.replace_all("\t", "\\t", literal=True)
        .str.replace_all("\n", "\\n", literal=True)
        .str.replace_all("\r", "\\r", literal=True)
    )


def _copy(session: Session, version_id: uuid.UUID, batches: Iterator[pl.DataFrame]) -> None:
    # The COPY text is assembled by polars a slice at a time: building it row by row in Python
    # (psycopg's write_row) cost as much as PostgreSQL's side of the load.
    raw = session.connection().connection.driver_connection
    statement = "COPY list_rows (version_id, row_number, child_id, cells) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for batch in batches:
            lines = batch.select(
                pl.concat_str(
                    [
                        pl.lit(str(version_id)),
                        pl.col(_ROW).cast(pl.String),
                        _copy_text(pl.col(_CHILD)),
                        _copy_text(pl.col(_CELLS)),
                    ],
                    separator="\t",
                )
            ).to_series()
            copy.write(lines.str.join("\n").item().encode() + b"\n")


def _stored(columns: Mapping[uuid.UUID, Sequence[str]], row: Any) -> StoredRow:
    version_id, number, child, cells = row
    return StoredRow(version_id, number, child, dict(zip(columns[version_id], cells, strict=True)))


_ROW_COLUMNS = (ListRow.version_id, ListRow.row_number, ListRow.child_id, ListRow.cells)


def rows_of(
    session: Session,
    versions: Sequence[ListVersion],
    child_ids: Sequence[str] | None = None,
) -> list[StoredRow]:
    columns = {version.id: version.columns for version in versions}
    query = select(*_ROW_COLUMNS).where(ListRow.version_id.in_(list(columns)))
    if child_ids is not None:
        query = query.where(ListRow.child_id.in_(list(child_ids)))
    found = session.execute(query.order_by(ListRow.version_id, ListRow.row_number))
    return [_stored(columns, row) for row in found]


# The common read, a page in file order with no filter, is built once.
_PAGE_IN_ROW_ORDER = (
    select(*_ROW_COLUMNS)
    .where(ListRow.version_id == bindparam("version_id"))
    .order_by(ListRow.row_number)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


def page_of_rows(
    session: Session,
    version: ListVersion,
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[Any]],
    limit: int,
    offset: int,
) -> tuple[list[StoredRow], int]:
    """A page of rows; ``order_by`` empty means file order, the order of the primary key."""
    columns = {version.id: version.columns}
    if not conditions and not order_by:
        found = session.execute(
            _PAGE_IN_ROW_ORDER, {"version_id": version.id, "limit": limit, "offset": offset}
        )
        # Versions are immutable: the count stored with them needs no recounting.
        return [_stored(columns, row) for row in found], version.row_count
    query = select(*_ROW_COLUMNS).where(ListRow.version_id == version.id, *conditions)
    if conditions:
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    else:
        total = version.row_count
    ordered = query.order_by(*order_by, ListRow.row_number).limit(limit).offset(offset)
    return [_stored(columns, row) for row in session.execute(ordered)], int(total)
