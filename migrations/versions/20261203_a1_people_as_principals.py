"""people as principals: api_clients rows for persons of trusted issuers

A person signed in with a trusted identity provider is a row of ``api_clients`` with the
provider's ``issuer`` and the person's ``subject`` (unique together) and no secret, so
``secret_hash`` and ``secret_rotated_at`` become nullable. A check keeps every row either a
system (a secret, no issuer) or a person (issuer and subject, no secret). Existing rows are
all systems and stay as they are.

Revision ID: 20261203a1
Revises: b1
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.database

revision: str = "20261203a1"
down_revision: str | None = "b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SYSTEM_OR_PERSON = (
    "(issuer IS NULL AND subject IS NULL AND secret_hash IS NOT NULL)"
    " OR (issuer IS NOT NULL AND subject IS NOT NULL AND secret_hash IS NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(sa.Column("issuer", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("subject", sa.String(length=255), nullable=True))
        batch.alter_column("secret_hash", existing_type=sa.String(length=64), nullable=True)
        batch.alter_column(
            "secret_rotated_at",
            existing_type=app.core.database.UTCDateTime(timezone=True),
            nullable=True,
        )
        batch.create_unique_constraint(op.f("uq_api_clients_issuer_subject"), ["issuer", "subject"])
        batch.create_check_constraint(op.f("ck_api_clients_system_or_person"), SYSTEM_OR_PERSON)


def downgrade() -> None:
    # People have no secret to keep: their rows go (a row another table still names stops
    # the downgrade, as it should).
    op.execute(sa.text("DELETE FROM api_clients WHERE issuer IS NOT NULL"))
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_constraint(op.f("ck_api_clients_system_or_person"), type_="check")
        batch.drop_constraint(op.f("uq_api_clients_issuer_subject"), type_="unique")
        batch.alter_column(
            "secret_rotated_at",
            existing_type=app.core.database.UTCDateTime(timezone=True),
            nullable=False,
        )
        batch.alter_column("secret_hash", existing_type=sa.String(length=64), nullable=False)
        batch.drop_column("subject")
        batch.drop_column("issuer")
