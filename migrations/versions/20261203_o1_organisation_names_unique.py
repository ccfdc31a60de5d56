"""one organisation per name and kind

Registering the same organisation twice (same kind, the name differing at most in case or
spacing) was accepted, leaving two ids for one body and clients split between them. A new
``name_key`` (the name with whitespace runs collapsed, case-folded) is unique with ``kind``,
so the database refuses a duplicate even when two registrations race; the service answers
409 first in the ordinary case.

Data: every organisation gets its key. Duplicates already registered are kept as they are
(ids are referenced everywhere): the second and later of a (kind, key) pair, by creation time,
get their id appended to their key, which only keeps them unique; their names do not change.
Downgrading drops the column and the constraint.

Revision ID: o1
Revises: r1
Create Date: 2026-12-03 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "o1"
down_revision: str | None = "r1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORGANISATIONS = sa.table(
    "organisations",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("name_key", sa.String()),
)


def _key(name: str) -> str:
    # As app.organisations.models.name_key, copied: a migration does not import the app.
    return " ".join(name.split()).casefold()


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("name_key", sa.String(length=200), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(ORGANISATIONS.c.id, ORGANISATIONS.c.name, ORGANISATIONS.c.kind).order_by(
            ORGANISATIONS.c.created_at, ORGANISATIONS.c.id
        )
    ).all()
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = _key(row.name)
        if (row.kind, key) in seen:
            key = f"{key[:160]} {row.id}"
        seen.add((row.kind, key))
        bind.execute(
            sa.update(ORGANISATIONS).where(ORGANISATIONS.c.id == row.id).values(name_key=key)
        )
    with op.batch_alter_table("organisations") as batch:
        batch.alter_column("name_key", existing_type=sa.String(length=200), nullable=False)
        batch.create_unique_constraint("uq_organisations_kind_name_key", ["kind", "name_key"])


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_constraint("uq_organisations_kind_name_key", type_="unique")
        batch.drop_column("name_key")
