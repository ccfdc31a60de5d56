"""the events outbox

Events are written in the transaction of the change they tell of, at its commit, with ids in
commit order, so a reader paging by id never passes an event a slower transaction has yet to
commit (see app.events.outbox). Recipients named by
organisation have rows of their own, so "my events" is an indexed join on both databases.
Nothing to carry over: no event happened before this.

Revision ID: g1
Revises: f1
Create Date: 2026-12-03 11:22:10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.database

revision: str = "g1"
down_revision: str | None = "f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", app.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("inspection_id", sa.Uuid(), nullable=True),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("resource_url", sa.String(length=512), nullable=False),
        sa.Column("to_inspectors", sa.Boolean(), nullable=False),
        sa.Column("to_participants", sa.Boolean(), nullable=False),
        sa.Column("required_role", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_inspection_id"), "events", ["inspection_id"], unique=False)
    op.create_table(
        "event_recipients",
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_recipients_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "organisation_id", name=op.f("pk_event_recipients")),
    )
    op.create_index(
        op.f("ix_event_recipients_organisation_id"),
        "event_recipients",
        ["organisation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_event_recipients_organisation_id"), table_name="event_recipients")
    op.drop_table("event_recipients")
    op.drop_index(op.f("ix_events_inspection_id"), table_name="events")
    op.drop_table("events")
