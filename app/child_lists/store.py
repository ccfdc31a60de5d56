"""Storing and reading list versions; no HTTP and no parsing here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

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


def _aware(moment: datetime | str) -> datetime:
    # An aggregate loses the column's type on SQLite, which hands back text or naive values.
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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


def json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def insert_rows(
    session: Session,
    version_id: uuid.UUID,
    rows: Sequence[Mapping[str, Any]],
    row_numbers: Sequence[int],
    child_id_field: str,
) -> None:
    """Bulk-load rows: COPY on PostgreSQL, batched multi-row INSERTs elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        _copy_rows(session, version_id, rows, row_numbers, child_id_field)
        return
    for start in range(0, len(rows), INSERT_BATCH):
        batch = [
            {
                "version_id": version_id,
                "row_number": number,
                "child_id": str(row[child_id_field]),
                "data": {key: json_value(value) for key, value in row.items()},
            }
            for row, number in zip(
                rows[start : start + INSERT_BATCH],
                row_numbers[start : start + INSERT_BATCH],
                strict=True,
            )
        ]
        session.execute(insert(ListRow), batch)


def _copy_rows(
    session: Session,
    version_id: uuid.UUID,
    rows: Sequence[Mapping[str, Any]],
    row_numbers: Sequence[int],
    child_id_field: str,
) -> None:
    raw = session.connection().connection.driver_connection
    statement = "COPY list_rows (version_id, row_number, child_id, data) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row, number in zip(rows, row_numbers, strict=True):
            data = json.dumps(row, default=json_value, separators=(",", ":"))
            copy.write_row((version_id, number, str(row[child_id_field]), data))


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
    version_id: uuid.UUID,
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[Any]],
    limit: int,
    offset: int,
) -> tuple[Sequence[ListRow], int]:
    query = select(ListRow).where(ListRow.version_id == version_id, *conditions)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(*order_by).limit(limit).offset(offset)).scalars().all()
    return rows, int(total)
