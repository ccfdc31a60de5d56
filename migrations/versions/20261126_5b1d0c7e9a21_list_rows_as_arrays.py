"""list rows as JSON arrays, keyed by version and row number

Each row's fields were a JSON object repeating every key; they become an array in the order the
version records in ``list_versions.columns``, about half the bytes a push writes. The surrogate
``id`` and its separate (version, row) index give way to a primary key on (version, row).

Revision ID: 5b1d0c7e9a21
Revises: e1b52d9420db
Create Date: 2026-11-26 10:20:00
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "5b1d0c7e9a21"
down_revision: str | None = "e1b52d9420db"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000

versions = sa.table("list_versions", sa.column("id", sa.Uuid()), sa.column("columns", sa.JSON()))
rows = sa.table(
    "list_rows",
    sa.column("id", sa.BigInteger()),
    sa.column("version_id", sa.Uuid()),
    sa.column("row_number", sa.Integer()),
    sa.column("data", sa.JSON()),
    sa.column("cells", sa.JSON()),
)


def upgrade() -> None:
    op.add_column("list_versions", sa.Column("columns", sa.JSON(), nullable=True))
    op.add_column("list_rows", sa.Column("cells", sa.JSON(), nullable=True))
    connection = op.get_bind()
    for (version_id,) in connection.execute(sa.select(versions.c.id)).all():
        columns = _columns_of(connection, version_id)
        connection.execute(
            versions.update().where(versions.c.id == version_id).values(columns=columns)
        )
        _rewrite_rows(connection, version_id, "data", "cells", _to_cells(columns))
    with op.batch_alter_table("list_versions") as batch:
        batch.alter_column("columns", existing_type=sa.JSON(), nullable=False)
    op.drop_index("ix_list_rows_version_row", table_name="list_rows")
    with op.batch_alter_table("list_rows", recreate="auto") as batch:
        batch.drop_column("id")
        batch.drop_column("data")
        batch.alter_column("cells", existing_type=sa.JSON(), nullable=False)
        batch.create_primary_key("pk_list_rows", ["version_id", "row_number"])


def _columns_of(connection: sa.Connection, version_id: Any) -> list[str]:
    """The keys every row of a version has, in the order its first row has them."""
    columns: list[str] = []
    found = connection.execute(sa.select(rows.c.data).where(rows.c.version_id == version_id))
    for (data,) in found:
        columns += [key for key in data if key not in columns]
    return columns


def _to_cells(columns: list[str]) -> Callable[[dict[str, Any]], list[Any]]:
    return lambda data: [data.get(key) for key in columns]


def _to_data(columns: list[str]) -> Callable[[list[Any]], dict[str, Any]]:
    return lambda cells: dict(zip(columns, cells, strict=True))


def _rewrite_rows(
    connection: sa.Connection,
    version_id: Any,
    source: str,
    target: str,
    convert: Callable[[Any], Any],
) -> None:
    found = connection.execute(
        sa.select(rows.c.row_number, rows.c[source]).where(rows.c.version_id == version_id)
    ).all()
    statement = (
        rows.update()
        .where(rows.c.version_id == version_id, rows.c.row_number == sa.bindparam("number"))
        .values({target: sa.bindparam("value")})
    )
    for start in range(0, len(found), BATCH):
        batch = found[start : start + BATCH]
        connection.execute(statement, [{"number": n, "value": convert(v)} for n, v in batch])


def downgrade() -> None:
    op.add_column("list_rows", sa.Column("data", sa.JSON(), nullable=True))
    connection = op.get_bind()
    for version_id, columns in connection.execute(sa.select(versions.c.id, versions.c.columns)):
        keys = list(columns)
        _rewrite_rows(
            connection,
            version_id,
            "cells",
            "data",
            _to_data(keys),
        )
    with op.batch_alter_table("list_rows", recreate="auto") as batch:
        batch.drop_constraint("pk_list_rows", type_="primary")
        batch.drop_column("cells")
        batch.alter_column("data", existing_type=sa.JSON(), nullable=False)
        batch.add_column(
            sa.Column(
                "id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                sa.Identity(),
                nullable=False,
            )
        )
        batch.create_primary_key("pk_list_rows", ["id"])
    op.create_index(
        "ix_list_rows_version_row", "list_rows", ["version_id", "row_number"], unique=False
    )
    with op.batch_alter_table("list_versions") as batch:
        batch.drop_column("columns")
