"""Filters given as query parameters (``?<field>=value``, ``?<date field>_from=`` and ``_to=``),
read into a ``RowQuery``: shared by a list's read and the search for children across lists."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date

from app.child_lists.reading import RowQuery
from app.core.errors import InvalidContent, ProblemItem


def row_query(
    params: Iterable[tuple[str, str]],
    reserved: Collection[str],
    sort: str = "row_number",
    descending: bool = False,
) -> RowQuery:
    """Every parameter but the reserved ones is a filter; 422 for a range that is no date."""
    equals: dict[str, str] = {}
    date_from: dict[str, date] = {}
    date_to: dict[str, date] = {}
    for name, value in params:
        if name in reserved:
            continue
        try:
            if name.endswith("_from"):
                date_from[name.removesuffix("_from")] = date.fromisoformat(value)
            elif name.endswith("_to"):
                date_to[name.removesuffix("_to")] = date.fromisoformat(value)
            else:
                equals[name] = value
        except ValueError:
            problem = ProblemItem(
                field=f"query.{name}", code="invalid_date", message="not a date", value=value[:100]
            )
            raise InvalidContent(
                f"'{name}' needs an ISO date (yyyy-mm-dd).", code="invalid_filter", errors=[problem]
            ) from None
    return RowQuery(equals, date_from, date_to, sort, descending)
