"""audit: reads wait in a queue for the sequencer instead of taking the chain's head lock

Every audited read used to link its row into the hash chain at commit, under the one head
row's lock: all reads of all inspections queued on it (issue 19). Reads are now written to
``audit_pending_reads`` in the reader's transaction, with a serial id and no hash, and the
sequencer (app/audit/sequencer.py) links them into ``audit_events`` within seconds, deleting
them from the queue in the same transaction. No data moves: the chain is unchanged.
Downgrading links nothing: run `jtai jobs run` first, or the queued reads are dropped.

Revision ID: rd1
Revises: o1
Create Date: 2026-12-03 11:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.database

revision: str = "rd1"
down_revision: str | None = "o1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_pending_reads",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("occurred_at", app.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=128), nullable=True),
        sa.Column("inspection_id", sa.Uuid(), nullable=True),
        sa.Column("child_id", sa.String(length=128), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_pending_reads")),
    )


def downgrade() -> None:
    op.drop_table("audit_pending_reads")
