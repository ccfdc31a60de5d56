"""selections: the lead's reason for overriding rules the guidance leaves to judgement

A selection that departs from a rule the theme leaves to the lead's judgement (a count, the
age band, the scope, "from the shortlist") is stored only with the lead's reason; the reason
and the rules it overrode (rule, code, children, guidance paragraphs) are kept with it.

Data: existing selections kept every rule, so they have no reason and override nothing.

Revision ID: e1
Revises: 20261203a1
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1"
down_revision: str | None = "20261203a1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("selections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("override_reason", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("overrides", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("selections", schema=None) as batch_op:
        batch_op.drop_column("overrides")
        batch_op.drop_column("override_reason")
