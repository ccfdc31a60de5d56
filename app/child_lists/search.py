"""Finding children across every current list of an inspection, for inspectors: by the start
of the child's ID, by field values, or both. It answers which children match and where each
appears (list, supplier, version, how many rows), not their rows: one audit record says a
search was made and how many children it found; reading a child (``reading.child_view``) is
audited with the child as ever."""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.child_lists import blocks, repository
from app.child_lists.blocks import CHILD
from app.child_lists.reading import RowQuery
from app.child_lists.repository import Contribution
from app.core.errors import InvalidContent, ProblemItem
from app.inspections.context import InspectionContext
from app.selections.repository import selected_children
from app.themes.schema.lists import ListSpec
from app.themes.schema.theme import Theme


@dataclass(frozen=True)
class Appearance:
    contribution: Contribution  # the list, supplier and version
    rows: int  # how many of its rows name the child


@dataclass(frozen=True)
class FoundChild:
    child_id: str
    selections: list[str]  # shortlist, tracked: those the child is in
    appearances: list[Appearance]


@dataclass(frozen=True)
class SearchResult:
    children: list[FoundChild]  # the page, by child ID
    total: int  # every child that matched


def _filtered(query: RowQuery) -> set[str]:
    return {*query.equals, *query.date_from, *query.date_to}


def check_filters(theme: Theme, query: RowQuery) -> None:
    """422 for a filter naming a field no list of the theme has, or a range on a field that
    is a date in none of them."""
    fields = [f for spec in theme.lists for f in spec.fields]
    known = {f.key for f in fields}
    dates = {f.key for f in fields if f.type == "date"}
    problems = [
        ProblemItem(field=f"query.{k}", code="unknown_field", message="not a field of any list")
        for k in sorted(_filtered(query) - known)
    ] + [
        ProblemItem(field=f"query.{k}", code="not_a_date", message="ranges need a date field")
        for k in sorted({*query.date_from, *query.date_to} & known - dates)
    ]
    if problems:
        raise InvalidContent(
            "The filters name fields the inspection's lists do not have.",
            code="invalid_filter",
            errors=problems,
        )


def _conditions(spec: ListSpec, columns: Collection[str], query: RowQuery) -> list[pl.Expr] | None:
    """The filters over one list's columns, compared as JSON text shows values (dates ISO);
    None when the list lacks a field filtered on (none of its rows can match)."""
    if not _filtered(query) <= {f.key for f in spec.fields}:
        return None

    def compared(key: str, test: Callable[[pl.Expr, str], pl.Expr], value: str) -> pl.Expr:
        if key == spec.child_id_field:
            return test(pl.col(CHILD), value)
        if key not in columns:  # pushed without that field
            return pl.lit(False)
        return test(pl.col(key).cast(pl.String), value)

    return [
        *(compared(k, operator.eq, v) for k, v in query.equals.items()),
        *(compared(k, operator.ge, d.isoformat()) for k, d in query.date_from.items()),
        *(compared(k, operator.le, d.isoformat()) for k, d in query.date_to.items()),
    ]


def _appearances(
    session: Session, context: InspectionContext, prefix: str, query: RowQuery
) -> dict[str, list[Appearance]]:
    found: dict[str, list[Appearance]] = {}
    specs = {spec.key: spec for spec in context.theme.lists}
    conditions: dict[Any, list[pl.Expr]] = {}
    by_version: dict[Any, Contribution] = {}
    for contribution in repository.current_contributions(session, context.inspection.id):
        spec = specs.get(contribution.version.list_key)
        wanted = _conditions(spec, contribution.version.columns, query) if spec else None
        if wanted is not None:
            conditions[contribution.version.id] = wanted
            by_version[contribution.version.id] = contribution
    versions = [c.version for c in by_version.values()]
    for version, frame in blocks.child_frames(session, versions, prefix, _filtered(query)):
        matching = frame.filter(*conditions[version.id]) if conditions[version.id] else frame
        counted = matching.group_by(CHILD).len()
        for child_id, rows in counted.iter_rows():
            found.setdefault(child_id, []).append(Appearance(by_version[version.id], rows))
    return found


def find_children(
    session: Session,
    context: InspectionContext,
    prefix: str,
    query: RowQuery,
    *,
    limit: int,
    offset: int,
) -> SearchResult:
    """Children on the inspection's current lists whose ID starts with ``prefix`` and whose
    row in a list meets every filter, by child ID, a page at a time; the search is audited
    (what was asked and how many children it found, no child named)."""
    check_filters(context.theme, query)
    found = _appearances(session, context, prefix, query)
    selections = selected_children(session, context.inspection.id)
    page = sorted(found)[offset : offset + limit]
    order = {key: index for index, key in enumerate(spec.key for spec in context.theme.lists)}
    children = [
        FoundChild(
            child_id,
            sorted(key for key, ids in selections.items() if child_id in ids),
            sorted(
                found[child_id],
                key=lambda a: (
                    order.get(a.contribution.version.list_key, len(order)),
                    a.contribution.organisation_name or "",
                ),
            ),
        )
        for child_id in page
    ]
    audit.record_read(
        session,
        context.principal,
        "children.searched",
        "inspection",
        context.inspection.id,
        inspection_id=context.inspection.id,
        detail={"q": prefix, "fields": sorted(_filtered(query)), "found": len(found)},
    )
    return SearchResult(children, len(found))
