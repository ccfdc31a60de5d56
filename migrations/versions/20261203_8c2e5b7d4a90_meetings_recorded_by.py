"""meetings: the agency that recorded each one

Meetings were the local authority's alone; the agencies a theme's meetings milestone names now
record them (mental health para 40 asks "the local agencies"), and a meeting is changed by the
agency that recorded it or the local authority. Data: existing meetings were recorded by their
inspection's local authority.

Revision ID: 8c2e5b7d4a90
Revises: 3f0c9a6d2b1e
Create Date: 2026-12-03 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c2e5b7d4a90"
down_revision: str | None = "3f0c9a6d2b1e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_by_organisation_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE meetings SET recorded_by_organisation_id = (SELECT local_authority_id "
        "FROM inspections WHERE inspections.id = meetings.inspection_id)"
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.alter_column(
            "recorded_by_organisation_id", existing_type=sa.Uuid(), nullable=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_meetings_recorded_by_organisation_id_organisations"),
            "organisations",
            ["recorded_by_organisation_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_meetings_recorded_by_organisation_id_organisations"),
            type_="foreignkey",
        )
        batch_op.drop_column("recorded_by_organisation_id")
