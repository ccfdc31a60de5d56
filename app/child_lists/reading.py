"""Reading child lists: pages with filters, whole-list exports, one child across lists, a
list's history. Every read of child data is audited here, in the reader's transaction.

A list as inspectors read it is the current version of every organisation's contribution,
merged: the suppliers one after the other (by name), each row carrying its supplier, so two
suppliers naming the same child give two rows. ``supplier`` narrows a read to one of them
(and then only that contribution's blocks are read); ``number`` reads an older version of
one contribution. An agency sees only what it supplied itself.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

import polars as pl
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.child_lists import blocks, pages, repository
from app.child_lists.blocks import EncodedRow, StoredRow
from app.child_lists.repository import Contribution
from app.child_lists.service import check_may_push, list_spec
from app.core.errors import InvalidContent, NotFound, ProblemItem
from app.inspections.context import InspectionContext
from app.inspections.models import Inspection
from app.selections.repository import selected_children
from app.themes.schema.lists import ListSpec


def _numbered(
    session: Session,
    inspection: Inspection,
    spec: ListSpec,
    number: int,
    supplier: uuid.UUID | None,
) -> Contribution:
    """Version ``number`` of the supplier's contribution; without a supplier, of the one
    contribution that has such a version (422 when several have)."""
    found = repository.versions_numbered(session, inspection.id, spec.key, number, supplier)
    if not found:
        raise NotFound(f"'{spec.key}' has no version {number}.")
    if len(found) > 1:
        message = "several suppliers have this version number: name one"
        raise InvalidContent(
            f"Several organisations have a version {number} of '{spec.key}'; "
            "name one with ?supplier=<organisation id>.",
            code="supplier_required",
            errors=[ProblemItem(field="query.supplier", code="supplier_required", message=message)],
        )
    return found[0]


def _contributions(
    session: Session,
    inspection: Inspection,
    spec: ListSpec,
    number: int | None,
    supplier: uuid.UUID | None,
) -> list[Contribution]:
    """What a read covers: every current contribution (or the supplier's), or one version."""
    if number is not None:
        return [_numbered(session, inspection, spec, number, supplier)]
    found = repository.contributions(session, inspection.id, spec.key)
    if not found:
        raise NotFound(
            f"Nothing has been pushed to '{spec.key}' in this inspection yet: no organisation "
            "has sent a version of it."
        )
    return [c for c in found if supplier is None or c.organisation_id == supplier]


@dataclass(frozen=True)
class RowQuery:
    equals: Mapping[str, str]
    date_from: Mapping[str, date]
    date_to: Mapping[str, date]
    sort: str
    descending: bool


def _column(spec: ListSpec, columns: Collection[str], key: str) -> pl.Expr | None:
    """A field's column in the versions' blocks; None when they were pushed without it."""
    if key == "row_number":
        return pl.col(blocks.ROW)
    if key == spec.child_id_field:
        return pl.col(blocks.CHILD)
    return pl.col(key) if key in columns else None


def _selection(spec: ListSpec, versions: list[Contribution], query: RowQuery) -> pages.RowSelection:
    """Filters compare a field's value as JSON text would show it (dates ISO, "true"); sorting
    uses the typed value, so ages and dates sort as numbers and days, not as text."""
    columns = {column for c in versions for column in c.version.columns}

    def compared(key: str, test: Callable[[Any, str], Any], value: str) -> pl.Expr:
        column = _column(spec, columns, key)
        # A field no version was pushed with matches nothing, rather than failing.
        return pl.lit(False) if column is None else test(column.cast(pl.String), value)

    conditions = [
        *(compared(key, operator.eq, value) for key, value in query.equals.items()),
        *(compared(key, operator.ge, day.isoformat()) for key, day in query.date_from.items()),
        *(compared(key, operator.le, day.isoformat()) for key, day in query.date_to.items()),
    ]
    sort = _column(spec, columns, query.sort)
    if query.sort == "row_number" and not query.descending:
        sort = None  # file order (supplier by supplier) is the stored order
    return pages.RowSelection(conditions, sort, query.descending)


def check_query(spec: ListSpec, query: RowQuery) -> None:
    known = {field.key: field for field in spec.fields}
    unknown = [k for k in (*query.equals, *query.date_from, *query.date_to) if k not in known]
    ranges = (*query.date_from, *query.date_to)
    not_dates = [k for k in ranges if k in known and known[k].type != "date"]
    if query.sort not in {"row_number", *known}:
        unknown.append(query.sort)
    if unknown or not_dates:
        problems = [
            ProblemItem(field=f"query.{k}", code="unknown_field", message="not a field of the list")
            for k in unknown
        ] + [
            ProblemItem(field=f"query.{k}", code="not_a_date", message="ranges need a date field")
            for k in not_dates
        ]
        raise InvalidContent(
            "The filters or sort name fields the list does not have.",
            code="invalid_filter",
            errors=problems,
        )


class SuppliedRow(NamedTuple):
    """A row as read, with the contribution (supplier and version) it belongs to."""

    row: StoredRow
    contribution: Contribution


class PageRow(NamedTuple):
    """A row of a page, written as JSON, with the contribution it belongs to."""

    row: EncodedRow
    contribution: Contribution


def _supplied(rows: list[StoredRow], versions: list[Contribution]) -> list[SuppliedRow]:
    by_id = {c.version.id: c for c in versions}
    return [SuppliedRow(row, by_id[row.version_id]) for row in rows]


def _page_rows(rows: list[EncodedRow], versions: list[Contribution]) -> list[PageRow]:
    by_id = {c.version.id: c for c in versions}
    return [PageRow(row, by_id[row.version_id]) for row in rows]


def _read_detail(versions: list[Contribution], rows: int) -> dict[str, Any]:
    """What an audit record of a read says was read: each contribution's version, no data."""
    return {"versions": _versions_read(versions), "rows": rows}


def _versions_read(versions: list[Contribution]) -> list[dict[str, Any]]:
    return [{"supplier": str(c.organisation_id), "version": c.version.number} for c in versions]


@dataclass(frozen=True)
class ChildView:
    child_id: str
    selections: list[str]
    lists: dict[str, list[SuppliedRow]]


def child_view(session: Session, context: InspectionContext, child_id: str) -> ChildView:
    """One child across every list. An agency sees only children the lead has selected, and
    of them only the rows it supplied itself. Every look is audited with the child, for the
    child's access log."""
    inspection, principal = context.inspection, context.actor
    selections = selected_children(session, inspection.id)
    chosen = sorted(key for key, ids in selections.items() if child_id in ids)
    if principal.is_agency and not chosen:
        raise NotFound("No such child among the selected children.")
    own = principal.organisation_id if principal.is_agency else None
    versions = repository.current_contributions(session, inspection.id, organisation_id=own)
    rows = blocks.rows_of(session, [c.version for c in versions], [child_id])
    order = {c.version.id: index for index, c in enumerate(versions)}
    rows.sort(key=lambda row: (order[row.version_id], row.row_number))
    found: dict[str, list[SuppliedRow]] = {}
    for supplied in _supplied(rows, versions):
        found.setdefault(supplied.contribution.version.list_key, []).append(supplied)
    if not found and not chosen:
        raise NotFound("No list of this inspection names that child.")
    audit.record_read(
        session,
        principal,
        "child.viewed",
        "child",
        child_id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={"lists": sorted(found)},
    )
    return ChildView(child_id, chosen, found)


@dataclass(frozen=True)
class ListPageResult:
    spec: ListSpec
    contributions: list[Contribution]
    rows: list[PageRow]
    total: int


def read_page(
    session: Session,
    context: InspectionContext,
    list_key: str,
    number: int | None,
    supplier: uuid.UUID | None,
    query: RowQuery,
    *,
    limit: int,
    offset: int,
) -> ListPageResult:
    """A page of the merged list (or of one supplier's contribution, or one version of it),
    filtered and sorted; the read is audited."""
    spec = list_spec(context.theme, list_key)
    check_query(spec, query)
    versions = _contributions(session, context.inspection, spec, number, supplier)
    rows, total = pages.page_of_rows(
        session, [c.version for c in versions], _selection(spec, versions, query), limit, offset
    )
    audit.record_read(
        session,
        context.principal,
        "list.read",
        "list",
        list_key,
        inspection_id=context.inspection.id,
        detail=_read_detail(versions, len(rows)),
    )
    return ListPageResult(spec, versions, _page_rows(rows, versions), total)


@dataclass(frozen=True)
class ListExport:
    spec: ListSpec
    contributions: list[Contribution]
    rows: Iterator[SuppliedRow]  # taken once, as the download is written


def export_list(
    session: Session,
    context: InspectionContext,
    list_key: str,
    number: int | None,
    supplier: uuid.UUID | None,
) -> ListExport:
    """Every row of the merged list (or of what ``supplier`` and ``number`` name), supplier
    by supplier in file order, for a download; the export is audited. The rows are decoded
    as the download takes them, from blocks fetched in one query."""
    spec = list_spec(context.theme, list_key)
    versions = _contributions(session, context.inspection, spec, number, supplier)
    by_id = {c.version.id: c for c in versions}
    rows = blocks.rows_in_order(session, [c.version for c in versions])
    audit.record_read(
        session,
        context.principal,
        "list.exported",
        "list",
        list_key,
        inspection_id=context.inspection.id,
        # Versions are immutable: their stored counts are the rows the download holds.
        detail=_read_detail(versions, sum(c.version.row_count for c in versions)),
    )
    supplied = (SuppliedRow(row, by_id[row.version_id]) for row in rows)
    return ListExport(spec, versions, supplied)


def _own_supplier(
    context: InspectionContext, spec: ListSpec, supplier: uuid.UUID | None
) -> uuid.UUID | None:
    """Whose versions the caller may see: an agency only its own pushes (and only of lists
    it provides); inspectors anyone's. None: every supplier's."""
    principal = context.actor
    if not principal.is_agency:
        return supplier
    check_may_push(principal, spec)
    if supplier not in (None, principal.organisation_id):
        raise NotFound("No versions of that supplier are yours to see.")
    return principal.organisation_id


def list_history(
    session: Session, context: InspectionContext, list_key: str, supplier: uuid.UUID | None
) -> list[Contribution]:
    """Every version of a list, newest first, with its supplier: an agency sees only its own
    pushes (their reports quote the rows pushed), inspectors every supplier's."""
    spec = list_spec(context.theme, list_key)
    whose = _own_supplier(context, spec, supplier)
    return repository.history(session, context.inspection.id, list_key, whose)


def list_version(
    session: Session,
    context: InspectionContext,
    list_key: str,
    number: int,
    supplier: uuid.UUID | None,
) -> Contribution:
    """One version with its report. For an agency the number is of its own contribution, so
    another organisation's version is not found."""
    spec = list_spec(context.theme, list_key)
    whose = _own_supplier(context, spec, supplier)
    found = _numbered(session, context.inspection, spec, number, whose)
    # Audited as a read: a report's warnings quote the cells they are about.
    audit.record_read(
        session,
        context.principal,
        "list.version_read",
        "list",
        list_key,
        inspection_id=context.inspection.id,
        detail={"versions": _versions_read([found]), "warnings": found.version.warning_count},
    )
    return found
