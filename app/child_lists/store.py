"""Storing and reading list versions; no HTTP and no parsing here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.orm import Session

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


def latest_version(session: Session, inspection_id: uuid.UUID, list_key: str) -> ListVersion | None:
    """The current version of one list: one index probe, as every read of a list starts here."""
    return session.execute(
        select(ListVersion)
        .where(ListVersion.inspection_id == inspection_id, ListVersion.list_key == list_key)
        .order_by(ListVersion.number.desc())
        .limit(1)
    ).scalar_one_or_none()


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


def insert_rows(
    session: Session,
    version_id: uuid.UUID,
    rows: Sequence[Mapping[str, Any]],
    row_numbers: Sequence[int],
    child_id_field: str,
) -> None:
    """Store rows given as dicts (tests and small pushes); see ``insert_frame`` for bulk."""
    frame = pl.DataFrame(list(rows), infer_schema_length=None) if rows else pl.DataFrame()
    insert_frame(session, version_id, frame, row_numbers, child_id_field)


def insert_frame(
    session: Session,
    version_id: uuid.UUID,
    frame: pl.DataFrame,
    row_numbers: Sequence[int],
    child_id_field: str,
) -> None:
    """Bulk-load a validated list: COPY on PostgreSQL, batched INSERTs elsewhere.

    The JSON of each row is built column-wise by polars, not row by row in Python, because
    that is most of the cost of storing a hundred thousand rows; a slice at a time, so the
    encoded rows never all sit in memory together.
    """
    if frame.height == 0:
        return
    numbered = frame.with_columns(pl.Series("__row", list(row_numbers), dtype=pl.Int64))
    fields = [pl.col(name) for name in frame.columns]
    batches = (
        batch.select(
            pl.col("__row").alias("row_number"),
            pl.col(child_id_field).cast(pl.String).alias("child_id"),
            pl.struct(fields).struct.json_encode().alias("data"),
        )
        for batch in numbered.iter_slices(INSERT_BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, version_id, batches)
        return
    for batch in batches:
        session.execute(
            insert(ListRow),
            [
                {"version_id": version_id, "row_number": n, "child_id": c, "data": json.loads(d)}
                for n, c, d in batch.iter_rows()
            ],
        )


def _copy(session: Session, version_id: uuid.UUID, batches: Iterator[pl.DataFrame]) -> None:
    # psycopg's row writer (C-accelerated) measured twice as fast as handing COPY one big
    # CSV text, whose quoting of the JSON column is what costs.
    raw = session.connection().connection.driver_connection
    statement = "COPY list_rows (version_id, row_number, child_id, data) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for batch in batches:
            for number, child, data in batch.iter_rows():
                copy.write_row((version_id, number, child, data))


def rows_of(
    session: Session,
    version_ids: Sequence[uuid.UUID],
    child_ids: Sequence[str] | None = None,
) -> Sequence[ListRow]:
    query = select(ListRow).where(ListRow.version_id.in_(version_ids))
    if child_ids is not None:
        query = query.where(ListRow.child_id.in_(list(child_ids)))
    return session.execute(query.order_by(ListRow.version_id, ListRow.row_number)).scalars().all()


def page_of_rows(
    session: Session,
    version: ListVersion,
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[Any]],
    limit: int,
    offset: int,
) -> tuple[Sequence[ListRow], int]:
    query = select(ListRow).where(ListRow.version_id == version.id, *conditions)
    if conditions:
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    else:
        total = version.row_count  # versions are immutable: no need to count them again
    rows = session.execute(query.order_by(*order_by).limit(limit).offset(offset)).scalars().all()
    return rows, int(total)
