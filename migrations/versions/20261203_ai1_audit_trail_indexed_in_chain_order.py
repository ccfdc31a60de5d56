"""audit: an inspection's trail indexed in chain order (inspection_id, seq)

An inspection's audit page (and a child's access log) asks for the inspection's next
``limit`` rows after a seq, in chain order. With an index on inspection_id alone PostgreSQL
had two plans, both growing with the chain: fetch every row of the inspection and sort them
for each page (without statistics: an inspection with 10,000 of a million events cost
10,000 heap pages a page, 48 ms warm, 336 ms cold), or walk the chain in seq order from
``after_seq`` filtering by inspection until the page fills (with statistics, for a busy
inspection): a page whose next rows lie past a spell of other inspections' events, or a new
inspection's first page, reads every row in between (225 ms across 1.3 million; the audit
page across such a gap 190 ms against 4.2 ms on the demo, bench_scale.py at 1,000,000
events). On (inspection_id, seq) a page is one index range read of ``limit`` entries,
whatever the chain. The index replaces the one on inspection_id alone, which it
serves too (one index fewer for the linker to keep up). On PostgreSQL it is built
CONCURRENTLY, so that writes to the chain go on meanwhile.

Revision ID: ai1
Revises: lb1
Create Date: 2026-12-03 18:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ai1"
down_revision: str | None = "lb1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index("ix_audit_events_inspection_seq", "audit_events", ["inspection_id", "seq"])
        op.drop_index("ix_audit_events_inspection_id", table_name="audit_events")
        return
    # On PostgreSQL built CONCURRENTLY, which cannot run inside a transaction: a plain build
    # holds writes to the chain back while it runs (about 2 s a million events), and every
    # request that reads or changes anything writes to the chain. A build that failed half
    # way leaves an invalid index of that name behind, hence the drop first.
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_audit_events_inspection_seq")
        op.create_index(
            "ix_audit_events_inspection_seq",
            "audit_events",
            ["inspection_id", "seq"],
            postgresql_concurrently=True,
        )
        op.drop_index(
            "ix_audit_events_inspection_id",
            table_name="audit_events",
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    op.create_index("ix_audit_events_inspection_id", "audit_events", ["inspection_id"])
    op.drop_index("ix_audit_events_inspection_seq", table_name="audit_events")
