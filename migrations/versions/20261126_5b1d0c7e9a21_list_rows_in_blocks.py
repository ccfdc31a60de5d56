"""list rows stored in column-wise blocks

A row per child (its fields as a JSON object) becomes blocks of up to 1,000 rows encoded as
Arrow IPC with LZ4 (``list_blocks``); ``list_versions.columns`` records the fields in order.
Existing rows are rewritten (and back on downgrade), values unchanged.

Revision ID: 5b1d0c7e9a21
Revises: e1b52d9420db
Create Date: 2026-11-26 11:10:00
"""

import io
from collections.abc import Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa
from alembic import op

revision: str = "5b1d0c7e9a21"
down_revision: str | None = "e1b52d9420db"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BLOCK_ROWS = 1000
ROW, CHILD = "__row", "__child"

versions = sa.table("list_versions", sa.column("id", sa.Uuid()), sa.column("columns", sa.JSON()))
rows = sa.table(
    "list_rows",
    sa.column("version_id", sa.Uuid()),
    sa.column("row_number", sa.Integer()),
    sa.column("child_id", sa.String()),
    sa.column("data", sa.JSON()),
)
blocks = sa.table(
    "list_blocks",
    sa.column("version_id", sa.Uuid()),
    sa.column("number", sa.Integer()),
    sa.column("first_row", sa.Integer()),
    sa.column("row_count", sa.Integer()),
    sa.column("child_ids", sa.Text()),
    sa.column("data", sa.LargeBinary()),
)


def upgrade() -> None:
    op.create_table(
        "list_blocks",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_row", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("child_ids", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["list_versions.id"],
            name=op.f("fk_list_blocks_version_id_list_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "number", name=op.f("pk_list_blocks")),
    )
    op.add_column("list_versions", sa.Column("columns", sa.JSON(), nullable=True))
    connection = op.get_bind()
    for (version_id,) in connection.execute(sa.select(versions.c.id)).all():
        columns = _rows_to_blocks(connection, version_id)
        connection.execute(
            versions.update().where(versions.c.id == version_id).values(columns=columns)
        )
    with op.batch_alter_table("list_versions") as batch:
        batch.alter_column("columns", existing_type=sa.JSON(), nullable=False)
    op.drop_index("ix_list_rows_version_row", table_name="list_rows")
    op.drop_index("ix_list_rows_version_child", table_name="list_rows")
    op.drop_table("list_rows")


def _rows_to_blocks(connection: sa.Connection, version_id: Any) -> list[str]:
    found = connection.execute(
        sa.select(rows.c.row_number, rows.c.child_id, rows.c.data)
        .where(rows.c.version_id == version_id)
        .order_by(rows.c.row_number)
    ).all()
    columns: list[str] = []
    for _, _, data in found:
        columns += [key for key in data if key not in columns]
    if not found:
        return columns
    frame = pl.DataFrame(
        {
            ROW: [number for number, _, _ in found],
            CHILD: [child for _, child, _ in found],
            **{key: [data.get(key) for _, _, data in found] for key in columns},
        },
        strict=False,
    )
    encoded = []
    for number, block in enumerate(frame.iter_slices(BLOCK_ROWS)):
        buffer = io.BytesIO()
        block.write_ipc(buffer, compression="lz4")
        encoded.append(
            {
                "version_id": version_id,
                "number": number,
                "first_row": number * BLOCK_ROWS,
                "row_count": block.height,
                "child_ids": "\n" + "".join(f"{child}\n" for child in block[CHILD].to_list()),
                "data": buffer.getvalue(),
            }
        )
    connection.execute(blocks.insert(), encoded)
    return columns


def downgrade() -> None:
    op.create_table(
        "list_rows",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.String(length=128), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["list_versions.id"],
            name=op.f("fk_list_rows_version_id_list_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_rows")),
    )
    op.create_index(
        "ix_list_rows_version_child", "list_rows", ["version_id", "child_id"], unique=False
    )
    op.create_index(
        "ix_list_rows_version_row", "list_rows", ["version_id", "row_number"], unique=False
    )
    connection = op.get_bind()
    for version_id, columns in connection.execute(
        sa.select(versions.c.id, versions.c.columns)
    ).all():
        _blocks_to_rows(connection, version_id, columns)
    op.drop_table("list_blocks")
    with op.batch_alter_table("list_versions") as batch:
        batch.drop_column("columns")


def _blocks_to_rows(connection: sa.Connection, version_id: Any, columns: list[str]) -> None:
    for (data,) in connection.execute(
        sa.select(blocks.c.data).where(blocks.c.version_id == version_id).order_by(blocks.c.number)
    ).all():
        frame = pl.read_ipc(io.BytesIO(data))
        shown = frame.with_columns(pl.col(pl.Date, pl.Datetime).cast(pl.String))
        values = shown.select([c for c in columns if c in shown.columns]).to_dicts()
        connection.execute(
            rows.insert(),
            [
                {"version_id": version_id, "row_number": number, "child_id": child, "data": data}
                for number, child, data in zip(
                    frame[ROW].to_list(), frame[CHILD].to_list(), values, strict=True
                )
            ],
        )
