"""webhooks and their deliveries

An organisation's subscriptions (url, event types, signing secret, the cursor of the last event
done with, the lease of the worker delivering it, the event being retried) and one row per
delivery attempt (status code or a short error, never the receiver's body). Nothing to carry
over: no subscription existed before this.

Revision ID: w1
Revises: rd1
Create Date: 2026-12-03 11:28:41.603228
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.database

revision: str = "w1"
down_revision: str | None = "rd1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("owner_client_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", app.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", app.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "cursor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", app.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "retry_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("retry_attempts", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", app.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", app.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_webhooks_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_client_id"],
            ["api_clients.id"],
            name=op.f("fk_webhooks_owner_client_id_api_clients"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index("ix_webhooks_due", "webhooks", ["deleted_at", "next_attempt_at"], unique=False)
    op.create_index(
        op.f("ix_webhooks_organisation_id"), "webhooks", ["organisation_id"], unique=False
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("attempted_at", app.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", app.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        "ix_webhook_deliveries_webhook", "webhook_deliveries", ["webhook_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_webhook", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index(op.f("ix_webhooks_organisation_id"), table_name="webhooks")
    op.drop_index("ix_webhooks_due", table_name="webhooks")
    op.drop_table("webhooks")
