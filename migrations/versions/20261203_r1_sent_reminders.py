"""deadline reminders already sent

One row per reminder sent (inspection, milestone, organisation reminded, kind, due time),
inserted or skipped on conflict in the transaction of its event, so that a reminder goes once
across restarts and concurrent job runners. Nothing to carry over: no reminder was sent before.

Revision ID: r1
Revises: g1
Create Date: 2026-12-03 11:29:29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.database

revision: str = "r1"
down_revision: str | None = "g1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sent_reminders",
        sa.Column("inspection_id", sa.Uuid(), nullable=False),
        sa.Column("milestone_key", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", app.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", app.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_sent_reminders_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "inspection_id",
            "milestone_key",
            "organisation_id",
            "kind",
            "due_at",
            name=op.f("pk_sent_reminders"),
        ),
    )


def downgrade() -> None:
    op.drop_table("sent_reminders")
