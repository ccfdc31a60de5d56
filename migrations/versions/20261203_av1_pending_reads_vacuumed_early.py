"""audit: PostgreSQL vacuums the queue of pending reads after every 10,000 rows taken off it

The queue is near empty but every row passes through it: after a burst (a million reads
linked in minutes), the default threshold (20% of a table PostgreSQL last counted at a
million rows) left its dead rows in place for minutes, and each run of the sequencer, which
every audit page starts, read through their index entries to find the oldest waiting: the
audit page took 124 ms instead of 33 (bench_scale.py, 1,000,000 events). A fixed threshold
keeps the dead rows few. Nothing on SQLite, which has no vacuum to tune.

Revision ID: av1
Revises: w1
Create Date: 2026-12-03 15:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "av1"
down_revision: str | None = "w1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE audit_pending_reads "
            "SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE audit_pending_reads "
            "RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold)"
        )
