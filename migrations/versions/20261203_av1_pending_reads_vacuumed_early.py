"""audit: PostgreSQL vacuums the queue of pending reads after every 10,000 rows taken off it

The queue is near empty but every row passes through it, and each run of the sequencer
(every audit page starts one) finds the oldest waiting through the index entries of the rows
already taken, until a vacuum removes them: with a million of them a run took 36-120 ms,
and the audit page 116-124 ms instead of 33; 36 ms once the queue was vacuumed
(bench_scale.py, 1,000,000 events, on a server with autovacuum off). The default
threshold, 20% of the rows PostgreSQL last counted (a million, just after a burst), would
wait for 200,000 dead rows; a fixed one vacuums after 10,000. Nothing on SQLite, which has
no vacuum to tune.

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
