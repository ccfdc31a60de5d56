"""nil returns and document kinds: answers of "none held", and documents by kind

A case-file request covers several kinds of document (chronology, assessment, plan, ...):
each document sent to one now names its kind (``documents.document_kind``; an upload in
progress carries it in ``uploads.document_kind``), versions run within one kind, and a
request is answered when each kind has a document or a nil return (``nil_returns``, the
agency's "none held" with its reason, per kind or for a request without kinds).

Data: documents already sent to a case-file request are given no kind, NULL, meaning
"unspecified": nothing recorded says which of the request's kinds they were, and guessing
(from a file name, say) would mark kinds answered that may not be. An unspecified document
is still listed and readable but answers none of the kinds, so such a request reads as owed
again until the agency sends each kind or a nil return; the schedule shows the same. The
one exception is certain: a case-file request covering a single kind, whose documents can
only have been of that kind, gets it. Documents of other requests (information items,
CQC's) have no kinds and stay NULL. Uploads in progress get NULL as well; completing one on
a case-file request is refused (422 ``document_kind_required``), and the agency starts it
again naming the kind. Downgrading drops the kinds and every nil return.

Revision ID: d1
Revises: e1
Create Date: 2026-12-03 08:49:09
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.database

revision: str = "d1"
down_revision: str | None = "e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nil_returns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("inspection_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("document_kind", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", app.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("withdrawn_at", app.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_document_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_nil_returns_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["document_requests.id"],
            name=op.f("fk_nil_returns_request_id_document_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nil_returns")),
    )
    op.create_index(
        op.f("ix_nil_returns_inspection_id"), "nil_returns", ["inspection_id"], unique=False
    )
    op.create_index(op.f("ix_nil_returns_request_id"), "nil_returns", ["request_id"], unique=False)
    op.add_column("documents", sa.Column("document_kind", sa.String(length=64), nullable=True))
    op.add_column("uploads", sa.Column("document_kind", sa.String(length=64), nullable=True))
    _single_kind_requests_name_their_documents()


REQUESTS = sa.table(
    "document_requests",
    sa.column("id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("categories", sa.JSON()),
)
DOCUMENTS = sa.table(
    "documents", sa.column("request_id", sa.Uuid()), sa.column("document_kind", sa.String())
)


def _single_kind_requests_name_their_documents() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(REQUESTS.c.id, REQUESTS.c.categories).where(REQUESTS.c.kind == "case_file")
    ).all()
    for request_id, categories in rows:
        kinds = json.loads(categories) if isinstance(categories, str) else categories
        if isinstance(kinds, list) and len(kinds) == 1:
            connection.execute(
                DOCUMENTS.update()
                .where(DOCUMENTS.c.request_id == request_id)
                .values(document_kind=str(kinds[0]))
            )


def downgrade() -> None:
    for table in ("uploads", "documents"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("document_kind")
    op.drop_index(op.f("ix_nil_returns_request_id"), table_name="nil_returns")
    op.drop_index(op.f("ix_nil_returns_inspection_id"), table_name="nil_returns")
    op.drop_table("nil_returns")
