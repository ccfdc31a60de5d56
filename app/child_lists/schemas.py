from __future__ import annotations

import uuid
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from app.child_lists.reading import PageRow, SuppliedRow
from app.child_lists.repository import Contribution
from app.child_lists.search import Appearance, FoundChild
from app.core.moments import Instant


class ListProblem(BaseModel):
    """One thing wrong (or worth a look) in a pushed list, located as the user sees it."""

    row: int | None = Field(description="Row number in the file as sent (heading rows counted)")
    column: str | None = Field(description="The heading as written (or the field key for JSON)")
    field: str | None = Field(description="The theme's field key")
    code: str
    message: str
    value: str | None = Field(description="The offending value, cut to 100 characters")
    severity: Literal["error", "warning"]


class ValidationReport(BaseModel):
    accepted: bool
    stored: bool
    rows: int
    errors: int
    warnings: int
    problems: list[ListProblem] = Field(description="At most 1,000; see the counts for the rest")
    problems_total: int
    sheet: str | None = Field(
        default=None,
        description="An Excel push: the sheet that was read (the list's own, e.g. List_1, "
        "else the first visible one)",
    )


class ListVersionRead(BaseModel):
    """One version of one organisation's contribution to a list."""

    model_config = ConfigDict(from_attributes=True)

    list_key: str
    number: int = Field(description="Numbered per contribution: per list and organisation")
    created_at: Instant
    client_id: uuid.UUID
    organisation_id: uuid.UUID = Field(description="The supplier: the organisation that pushed")
    organisation_name: str | None = None
    media_type: str
    body_sha256: str
    row_count: int
    warning_count: int
    due_at: Instant | None
    late: bool

    @classmethod
    def of(cls, contribution: Contribution) -> Self:
        read = cls.model_validate(contribution.version)
        read.organisation_name = contribution.organisation_name
        return read


class ListVersionWithReport(ListVersionRead):
    warnings: list[ListProblem]


class PushResult(BaseModel):
    version: ListVersionRead | None = Field(description="Null for a dry run")
    report: ValidationReport


class RowSupplier(BaseModel):
    """Who supplied a row: the organisation, and the version of its contribution."""

    organisation_id: uuid.UUID
    organisation_name: str | None
    version: int


class ListRowRead(BaseModel):
    row_number: int = Field(description="The row's number in the supplier's file")
    child_id: str
    supplier: RowSupplier
    data: dict[str, Any]


class ListPage(BaseModel):
    list_key: str
    contributions: list[ListVersionRead] = Field(
        description="The versions the rows are read from: the current one of each supplier's "
        "contribution (or the one asked for), in the order their rows come"
    )
    items: list[ListRowRead]
    limit: int
    offset: int
    total: int
    next_offset: int | None


class ChildListRows(BaseModel):
    list_key: str
    rows: list[ListRowRead] = Field(
        description="Each supplier's rows for the child (agencies: only their own)"
    )


class ChildRead(BaseModel):
    child_id: str
    selections: list[str] = Field(description="The selections that include this child")
    lists: list[ChildListRows]


def rows_read(rows: list[SuppliedRow]) -> list[ListRowRead]:
    """Rows to send, built without validation (they were validated when pushed); a page's
    rows share one supplier record per contribution."""
    suppliers: dict[uuid.UUID, RowSupplier] = {}
    built = []
    for supplied in rows:
        version = supplied.contribution.version
        supplier = suppliers.get(version.id)
        if supplier is None:
            supplier = suppliers[version.id] = RowSupplier.model_construct(
                organisation_id=version.organisation_id,
                organisation_name=supplied.contribution.organisation_name,
                version=version.number,
            )
        row = supplied.row
        built.append(
            ListRowRead.model_construct(
                row_number=row.row_number, child_id=row.child_id, supplier=supplier, data=row.data
            )
        )
    return built


def _supplier_values(contribution: Contribution) -> dict[str, Any]:
    version = contribution.version
    return {
        "organisation_id": str(version.organisation_id),
        "organisation_name": contribution.organisation_name,
        "version": version.number,
    }


def list_page_json(page: ListPage, rows: list[PageRow]) -> bytes:
    """``page`` as JSON with ``rows`` as its items, joined from the rows' JSON as written once
    per stored block (``blocks.EncodedRow``).

    The hot path of reads: building a model per row (and a supplier model per row) only to
    serialise it, then writing every cell again for every read, cost more than all the
    page's queries. A test checks the result against ``ListPage``."""
    suppliers: dict[uuid.UUID, bytes] = {}
    items = []
    for page_row in rows:
        row = page_row.row
        supplier = suppliers.get(row.version_id)
        if supplier is None:
            supplier = suppliers[row.version_id] = to_json(_supplier_values(page_row.contribution))
        items.append(b'%s,"supplier":%s,"data":%s}' % (row.head, supplier, row.cells))
    return _with_items(page, b"[%s]" % b",".join(items))


def _with_items(page: ListPage, items: bytes) -> bytes:
    """The page's own fields as its model writes them, in its order, ``items`` in its place."""
    values = page.model_dump(mode="json", exclude={"items"})
    members = [
        b'"items":' + items if key == "items" else to_json({key: values[key]})[1:-1]
        for key in ListPage.model_fields
    ]
    return b"{%s}" % b",".join(members)


class ChildAppearance(BaseModel):
    """A list a found child is on: whose contribution, which version, how many rows."""

    list_key: str
    organisation_id: uuid.UUID
    organisation_name: str | None
    version: int
    rows: int

    @classmethod
    def of(cls, appearance: Appearance) -> ChildAppearance:
        version = appearance.contribution.version
        return cls(
            list_key=version.list_key,
            organisation_id=version.organisation_id,
            organisation_name=appearance.contribution.organisation_name,
            version=version.number,
            rows=appearance.rows,
        )


class ChildFound(BaseModel):
    """A child a search found: the selections it is in and where it appears (no rows)."""

    child_id: str
    selections: list[str]
    appearances: list[ChildAppearance]

    @classmethod
    def of(cls, found: FoundChild) -> ChildFound:
        return cls(
            child_id=found.child_id,
            selections=found.selections,
            appearances=[ChildAppearance.of(a) for a in found.appearances],
        )
