"""Reading child lists: pages with filters, whole-list exports, one child across lists, a
list's history. Every read of child data is audited here, in the reader's transaction."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.child_lists import repository
from app.child_lists.models import ListVersion
from app.child_lists.service import check_may_push, list_spec
from app.core.errors import InvalidContent, NotFound, ProblemItem
from app.inspections.context import InspectionContext
from app.inspections.models import Inspection
from app.selections.repository import selected_children
from app.themes.schema.lists import ListSpec


def require_version(
    session: Session, inspection: Inspection, spec: ListSpec, number: int | None
) -> ListVersion:
    if number is None:
        version = repository.latest_version(session, inspection.id, spec.key)
    else:
        version = repository.version_by_number(session, inspection.id, spec.key, number)
    if version is None:
        which = "any version" if number is None else f"version {number}"
        raise NotFound(f"'{spec.key}' has no {which} yet.")
    return version


@dataclass(frozen=True)
class RowQuery:
    equals: Mapping[str, str]
    date_from: Mapping[str, date]
    date_to: Mapping[str, date]
    sort: str
    descending: bool


def _column(spec: ListSpec, version: ListVersion, key: str) -> pl.Expr | None:
    """A field's column in the version's blocks; None when the version was pushed without it."""
    if key == "row_number":
        return pl.col(repository.ROW)
    if key == spec.child_id_field:
        return pl.col(repository.CHILD)
    return pl.col(key) if key in version.columns else None


def _selection(spec: ListSpec, version: ListVersion, query: RowQuery) -> repository.RowSelection:
    """Filters compare a field's value as JSON text would show it (dates ISO, "true"); sorting
    uses the typed value, so ages and dates sort as numbers and days, not as text."""

    def compared(key: str, test: Callable[[Any, str], Any], value: str) -> pl.Expr:
        column = _column(spec, version, key)
        # A field this version was pushed without matches nothing, rather than failing.
        return pl.lit(False) if column is None else test(column.cast(pl.String), value)

    conditions = [
        *(compared(key, operator.eq, value) for key, value in query.equals.items()),
        *(compared(key, operator.ge, day.isoformat()) for key, day in query.date_from.items()),
        *(compared(key, operator.le, day.isoformat()) for key, day in query.date_to.items()),
    ]
    sort = _column(spec, version, query.sort)
    if query.sort == "row_number" and not query.descending:
        sort = None  # file order is the stored order
    return repository.RowSelection(conditions, sort, query.descending)


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


def page(
    session: Session,
    version: ListVersion,
    spec: ListSpec,
    query: RowQuery,
    limit: int,
    offset: int,
) -> tuple[list[repository.StoredRow], int]:
    check_query(spec, query)
    return repository.page_of_rows(
        session, version, _selection(spec, version, query), limit, offset
    )


def all_rows(session: Session, version: ListVersion) -> Iterator[dict[str, Any]]:
    for row in repository.iter_rows(session, version):
        yield row.data


@dataclass(frozen=True)
class ChildView:
    child_id: str
    selections: list[str]
    lists: dict[str, tuple[ListVersion, list[repository.StoredRow]]]


def child_view(session: Session, context: InspectionContext, child_id: str) -> ChildView:
    """One child across every list; agencies see only children the lead has selected.
    Every look is audited with the child, for the child's access log."""
    inspection, principal = context.inspection, context.actor
    selections = selected_children(session, inspection.id)
    chosen = sorted(key for key, ids in selections.items() if child_id in ids)
    if principal.is_agency and not chosen:
        raise NotFound("No such child among the selected children.")
    versions = repository.current_versions(session, inspection.id)
    by_id = {version.id: version for version in versions.values()}
    found: dict[str, tuple[ListVersion, list[repository.StoredRow]]] = {}
    for row in repository.rows_of(session, list(by_id.values()), [child_id]):
        version = by_id[row.version_id]
        found.setdefault(version.list_key, (version, []))[1].append(row)
    if not found and not chosen:
        raise NotFound("No list of this inspection names that child.")
    audit.record(
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
    version: ListVersion
    rows: list[repository.StoredRow]
    total: int


def read_page(
    session: Session,
    context: InspectionContext,
    list_key: str,
    number: int | None,
    query: RowQuery,
    *,
    limit: int,
    offset: int,
) -> ListPageResult:
    """A page of a list version's rows, filtered and sorted; the read is audited."""
    spec = list_spec(context.theme, list_key)
    version = require_version(session, context.inspection, spec, number)
    rows, total = page(session, version, spec, query, limit, offset)
    audit.record(
        session,
        context.principal,
        "list.read",
        "list",
        list_key,
        inspection_id=context.inspection.id,
        detail={"version": version.number, "rows": len(rows)},
    )
    return ListPageResult(spec, version, rows, total)


@dataclass(frozen=True)
class ListExport:
    spec: ListSpec
    version: ListVersion
    rows: list[dict[str, Any]]


def export_list(
    session: Session, context: InspectionContext, list_key: str, number: int | None
) -> ListExport:
    """Every row of a list version, for a download; the export is audited."""
    spec = list_spec(context.theme, list_key)
    version = require_version(session, context.inspection, spec, number)
    audit.record(
        session,
        context.principal,
        "list.exported",
        "list",
        list_key,
        inspection_id=context.inspection.id,
        detail={"version": version.number, "rows": version.row_count},
    )
    return ListExport(spec, version, list(all_rows(session, version)))


def list_history(session: Session, context: InspectionContext, list_key: str) -> list[ListVersion]:
    """Every version of a list, newest first; an agency sees only lists it provides."""
    spec = list_spec(context.theme, list_key)
    if context.actor.is_agency:
        check_may_push(context.actor, spec)
    return list(repository.history(session, context.inspection.id, list_key))
