"""list blocks' data stored as it is, not compressed again

A block's ``data`` is Arrow IPC already compressed with LZ4, yet PostgreSQL's default storage
for a large value tries its own compression (pglz) first and keeps the result only if it saves
a quarter: on these blocks it never does, and trying cost PostgreSQL about as much processor
time as a ``COPY`` of the whole list (0.15 s of 0.2 s storing 100,000 rows). EXTERNAL keeps
the values out of line as before, uncompressed. Existing values are left as they are (read the
same either way); SQLite has no such setting.

Revision ID: lb1
Revises: av1
Create Date: 2026-12-03 15:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "lb1"
down_revision: str | None = "av1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE list_blocks ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE list_blocks ALTER COLUMN data SET STORAGE EXTENDED")
