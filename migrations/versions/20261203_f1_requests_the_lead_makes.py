"""requests the lead makes, on-request items, and items asked of the partnership

The lead inspector now makes requests too (kind ``lead_request``, with a ``detail``), and
items the guidance asks only "as requested by the lead inspector" (or during fieldwork) are
made by the lead, not derived for everyone. An item whose section is asked of several kinds
of agency (the safeguarding partners: the council, health and police) is one request that
any of them may answer, instead of one per agency.

Shape: a request keeps ``addressee_organisation_id`` (its first addressee, the council where
it is named), and every addressee, one or several, has a row in the new
``document_request_addressees``. Access, the agencies' views and the submissions read that
table; documents, nil returns, answers and the schedule are per request and need no change,
so an upload or nil return by any addressee answers the request for all. A table rather than
a list column: "the requests asked of this organisation" is an indexed join on both
databases.

Data: every existing request gets one addressee row, its addressee. Derived per-agency
duplicates of a partnership item (derived information-item rows of one inspection and item
number addressed to agencies of more than one kind) become one request: the council's row
(the first kind the section names, then by name; its id is the one the derivation now gives
the partnership request) is kept, with every duplicate's addressee added to it, and what was
already sent to a duplicate (documents, nil returns, uploads in progress) is moved onto it,
so nothing answered is lost and the answer counts for all; the duplicates are then deleted.
Items now asked only on request that were derived before stay as they are until the
inspection's requests are next derived (any change of tracked children, participants or
schedule), when they are withdrawn, keeping whatever was sent to them. Downgrading drops the
addressees (merged duplicates are not split again) and the details.

Revision ID: f1
Revises: d1
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "f1"
down_revision: str | None = "d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The order of kinds the partnership sections name (the council first).
KIND_ORDER = ["local_authority", "health", "police", "youth_offending", "probation"]

REQUESTS = sa.table(
    "document_requests",
    sa.column("id", sa.Uuid()),
    sa.column("inspection_id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("addressee_organisation_id", sa.Uuid()),
    sa.column("item_number", sa.String()),
    sa.column("withdrawn", sa.Boolean()),
    sa.column("created_by_client_id", sa.Uuid()),
)
ADDRESSEES = sa.table(
    "document_request_addressees",
    sa.column("request_id", sa.Uuid()),
    sa.column("organisation_id", sa.Uuid()),
)
ORGANISATIONS = sa.table(
    "organisations", sa.column("id", sa.Uuid()), sa.column("name"), sa.column("kind")
)
ANSWERS = [
    sa.table(name, sa.column("request_id", sa.Uuid()))
    for name in ("documents", "nil_returns", "uploads")
]


def upgrade() -> None:
    op.add_column("document_requests", sa.Column("detail", sa.Text(), nullable=True))
    op.create_table(
        "document_request_addressees",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_document_request_addressees_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["document_requests.id"],
            name=op.f("fk_document_request_addressees_request_id_document_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "request_id", "organisation_id", name=op.f("pk_document_request_addressees")
        ),
    )
    op.create_index(
        op.f("ix_document_request_addressees_organisation_id"),
        "document_request_addressees",
        ["organisation_id"],
        unique=False,
    )
    op.execute(
        ADDRESSEES.insert().from_select(
            ["request_id", "organisation_id"],
            sa.select(REQUESTS.c.id, REQUESTS.c.addressee_organisation_id),
        )
    )
    _merge_partnership_duplicates()


def _rank(row: Any) -> tuple[int, str]:
    kind = str(row.org_kind)
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), str(row.name))


def _merge_partnership_duplicates() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            REQUESTS.c.id,
            REQUESTS.c.inspection_id,
            REQUESTS.c.item_number,
            REQUESTS.c.withdrawn,
            REQUESTS.c.addressee_organisation_id,
            ORGANISATIONS.c.name,
            ORGANISATIONS.c.kind.label("org_kind"),
        )
        .join(ORGANISATIONS, ORGANISATIONS.c.id == REQUESTS.c.addressee_organisation_id)
        .where(
            REQUESTS.c.kind == "information_item",
            REQUESTS.c.created_by_client_id.is_(None),
        )
    ).all()
    groups: dict[tuple[Any, Any], list[Any]] = {}
    for row in rows:
        groups.setdefault((row.inspection_id, row.item_number), []).append(row)
    for group in groups.values():
        if len({row.org_kind for row in group}) < 2:
            continue  # one kind of agency: separate requests, as before
        keeper, *duplicates = sorted(group, key=_rank)
        for duplicate in duplicates:
            for answers in ANSWERS:
                bind.execute(
                    answers.update()
                    .where(answers.c.request_id == duplicate.id)
                    .values(request_id=keeper.id)
                )
            bind.execute(ADDRESSEES.delete().where(ADDRESSEES.c.request_id == duplicate.id))
            bind.execute(REQUESTS.delete().where(REQUESTS.c.id == duplicate.id))
        for duplicate in duplicates:
            if duplicate.addressee_organisation_id != keeper.addressee_organisation_id:
                bind.execute(
                    ADDRESSEES.insert().values(
                        request_id=keeper.id, organisation_id=duplicate.addressee_organisation_id
                    )
                )
        live = not all(row.withdrawn for row in group)
        bind.execute(REQUESTS.update().where(REQUESTS.c.id == keeper.id).values(withdrawn=not live))


def downgrade() -> None:
    op.drop_index(
        op.f("ix_document_request_addressees_organisation_id"),
        table_name="document_request_addressees",
    )
    op.drop_table("document_request_addressees")
    with op.batch_alter_table("document_requests", schema=None) as batch_op:
        batch_op.drop_column("detail")
