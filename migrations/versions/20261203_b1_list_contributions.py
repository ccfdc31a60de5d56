"""list versions are numbered per contribution: inspection, list and supplying organisation

A list compiled jointly (the theme names several responsible kinds of agency) is made of one
contribution per organisation, and a push replaces only its own organisation's contribution;
so version numbers, and the uniqueness that keeps two concurrent pushes from both being
stored, are per inspection, list and organisation.

Data: nothing moves. Every version row already records the organisation that pushed it
(``organisation_id``, taken from the pushing client's organisation), so each existing version
becomes a version of that organisation's contribution, keeping its number: numbers that were
unique per list are unique per contribution too, and the numbers already named in audit
records and ETags keep meaning the same versions. A contribution may therefore start at a
number above 1 or have gaps where another organisation pushed in between; the next push
takes its latest number plus one. A list where one organisation's push had hidden another's
(the old behaviour) now reads as both contributions, merged.

Revision ID: b1
Revises: 8c2e5b7d4a90
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b1"
down_revision: str | None = "8c2e5b7d4a90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The naming convention names a unique constraint after its first column, so the name stays.
NAME = "uq_list_versions_inspection_id"


def upgrade() -> None:
    with op.batch_alter_table("list_versions") as batch:
        batch.drop_constraint(NAME, type_="unique")
        batch.create_unique_constraint(
            NAME, ["inspection_id", "list_key", "organisation_id", "number"]
        )


def downgrade() -> None:
    # Fails (and changes nothing) once two organisations have pushed the same number of one
    # list: the old rule cannot hold those versions.
    with op.batch_alter_table("list_versions") as batch:
        batch.drop_constraint(NAME, type_="unique")
        batch.create_unique_constraint(NAME, ["inspection_id", "list_key", "number"])
