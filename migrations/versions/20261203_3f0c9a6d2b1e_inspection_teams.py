"""inspection teams: inspectors read an inspection only while on its team

Data: each inspection's lead inspector joins its team. No other inspector does: until now
every inspector of a taking-part inspectorate could read the inspection, which is the access
this revision ends; the lead names the rest of the team.

Revision ID: 3f0c9a6d2b1e
Revises: 1e53e1fc3c33
Create Date: 2026-12-03 08:15:03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.database

revision: str = "3f0c9a6d2b1e"
down_revision: str | None = "1e53e1fc3c33"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspection_team_members",
        sa.Column("inspection_id", sa.Uuid(), nullable=False),
        sa.Column("principal_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("added_at", app.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_inspection_team_members_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["api_clients.id"],
            name=op.f("fk_inspection_team_members_principal_id_api_clients"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_inspection_team_members_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "inspection_id", "principal_id", name=op.f("pk_inspection_team_members")
        ),
    )
    with op.batch_alter_table("inspection_team_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_team_members_principal_id"), ["principal_id"], unique=False
        )
    op.execute(
        "INSERT INTO inspection_team_members "
        "(inspection_id, principal_id, organisation_id, added_at) "
        "SELECT inspections.id, inspections.lead_client_id, api_clients.organisation_id, "
        "inspections.status_changed_at FROM inspections "
        "JOIN api_clients ON api_clients.id = inspections.lead_client_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("inspection_team_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_team_members_principal_id"))
    op.drop_table("inspection_team_members")
