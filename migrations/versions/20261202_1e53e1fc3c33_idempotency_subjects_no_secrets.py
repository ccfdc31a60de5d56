"""idempotency records: a subject to purge by, and no stored secrets

``subject_id`` is the first ID in the request's path (inspection, request, upload...), so a
purge deletes the answers about an inspection; ``not_replayable`` says why an answer that
carried a secret was not kept. Data: answers already stored with a client secret or an
access token lose their body and become not replayable (a retry is told 409, and neither
gets the secret again nor creates a second client), and the others are tagged with the
inspection their body names, when it names one.

Revision ID: 1e53e1fc3c33
Revises: 5b1d0c7e9a21
Create Date: 2026-12-02 09:00:00
"""

import json
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "1e53e1fc3c33"
down_revision: str | None = "5b1d0c7e9a21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECRET_FIELDS = ("client_secret", "access_token")
WITHHELD = (
    "The first answer to this key held a secret, which is no longer kept for replay; "
    "rotate the client's secret or ask for a new token if it was lost."
)

records = sa.table(
    "idempotency_records",
    sa.column("client_id", sa.Uuid()),
    sa.column("key", sa.String()),
    sa.column("body", sa.LargeBinary()),
    sa.column("headers", sa.JSON()),
    sa.column("subject_id", sa.Uuid()),
    sa.column("not_replayable", sa.String()),
)


def upgrade() -> None:
    op.add_column("idempotency_records", sa.Column("subject_id", sa.Uuid(), nullable=True))
    op.add_column(
        "idempotency_records", sa.Column("not_replayable", sa.String(length=200), nullable=True)
    )
    op.create_index(
        op.f("ix_idempotency_records_subject_id"),
        "idempotency_records",
        ["subject_id"],
        unique=False,
    )
    connection = op.get_bind()
    # Records live 24 hours, so the table is small enough to read whole.
    stored = connection.execute(sa.select(records.c.client_id, records.c.key, records.c.body))
    for client_id, key, body in stored.all():
        mine = (records.c.client_id == client_id, records.c.key == key)
        document = _json_object(body)
        if any(name in document for name in SECRET_FIELDS):
            connection.execute(
                sa.update(records)
                .where(*mine)
                .values(body=None, headers={}, not_replayable=WITHHELD)
            )
        elif (inspection_id := _uuid(document.get("inspection_id"))) is not None:
            connection.execute(sa.update(records).where(*mine).values(subject_id=inspection_id))


def _json_object(body: bytes | None) -> dict[str, Any]:
    try:
        document = json.loads(body or b"")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records") as batch:
        batch.drop_index(batch.f("ix_idempotency_records_subject_id"))
        batch.drop_column("not_replayable")
        batch.drop_column("subject_id")
