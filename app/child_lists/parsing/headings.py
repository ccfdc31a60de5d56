"""Which column is which field: headings as people write them, matched to a list's fields.

The theme's own comparison (``match_key``: case, spacing, curly quotes and dashes ignored) is
tried first. Spreadsheets also arrive with punctuation changed ("Child_Unique_ID", a dropped
"(Y/N)", a trailing "?"), so a looser key without punctuation is the fallback, used only where it
names one field of the list and no other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.child_lists.parsing.types import Problem
from app.themes.schema.base import match_key
from app.themes.schema.lists import ListSpec

_YES_NO_SUFFIX = re.compile(r"\(\s*y\s*/\s*n\s*\)")
_NOT_ALNUM = re.compile(r"[\W_]+")


def loose_key(text: str) -> str:
    return _NOT_ALNUM.sub("", _YES_NO_SUFFIX.sub("", match_key(text)))


@dataclass(frozen=True)
class Column:
    """A column of the file: where it is, its heading as written, the field it holds."""

    position: int
    heading: str
    field: str


class HeadingMatcher:
    def __init__(self, spec: ListSpec) -> None:
        self.spec = spec
        self._exact = {key: f.key for f in spec.fields for key in f.match_keys()}
        loose: dict[str, set[str]] = {}
        for spec_field in spec.fields:
            for key in spec_field.match_keys():
                loose.setdefault(loose_key(key), set()).add(spec_field.key)
        self._loose = {k: next(iter(v)) for k, v in loose.items() if len(v) == 1 and k}

    def field_for(self, heading: str) -> str | None:
        found = self._exact.get(match_key(heading))
        return found if found is not None else self._loose.get(loose_key(heading))

    def looks_like_heading_row(self, cells: Sequence[str | None]) -> bool:
        """At least half of the row's non-empty cells are headings of this list."""
        given = [c for c in cells if c and c.strip()]
        matched = sum(1 for c in given if self.field_for(c) is not None)
        return matched > 0 and 2 * matched >= len(given)


def heading_row_index(matcher: HeadingMatcher, rows: Sequence[Sequence[str | None]]) -> int:
    """The first of ``rows`` that reads as the heading row; else the first non-empty row, so a
    file with none of the expected headings is reported heading by heading."""
    for index, cells in enumerate(rows):
        if matcher.looks_like_heading_row(cells):
            return index
    return next((i for i, cells in enumerate(rows) if any(c and c.strip() for c in cells)), 0)


@dataclass(frozen=True)
class HeadingMatch:
    columns: list[Column]
    problems: list[Problem]

    def headings(self) -> dict[str, str]:
        return {c.heading: c.field for c in self.columns}


def match_headings(
    matcher: HeadingMatcher,
    headings: Sequence[str],
    has_values: Sequence[bool],
    heading_row: int | None,
    by_key: bool = False,
    require: bool = True,
) -> HeadingMatch:
    """Map each heading to a field; report unknown and repeated headings and, if ``require``,
    required fields with no column (named by key when ``by_key``: JSON has keys, not headings).
    Columns without a heading or a value anywhere (trailing empty columns of a spreadsheet) are
    ignored."""
    columns: list[Column] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for position, (heading, used) in enumerate(zip(headings, has_values, strict=True)):
        field_key = matcher.field_for(heading) if heading.strip() else None
        if not heading.strip():
            if used:
                problems.append(_unnamed(heading_row, position))
        elif field_key is None:
            problems.append(_unknown(matcher.spec, heading_row, heading))
        elif field_key in seen:
            problems.append(_repeated(heading_row, heading, field_key, seen[field_key]))
        else:
            seen[field_key] = heading
            columns.append(Column(position, heading, field_key))
    if require:
        problems.extend(_missing(matcher.spec, set(seen), heading_row, by_key))
    return HeadingMatch(columns, problems)


def _unnamed(row: int | None, position: int) -> Problem:
    message = (
        f"Column {position + 1} has values but no heading. Give it the heading of one of the "
        "list's fields, or delete the column."
    )
    return _problem(row, None, None, "missing_heading", message, None)


def _unknown(spec: ListSpec, row: int | None, heading: str) -> Problem:
    message = (
        f"'{heading}' is not a column of the list '{spec.title}'. Use the headings of the "
        "list's template (or the field names), or delete the column."
    )
    return _problem(row, heading, None, "unknown_heading", message, heading)


def _repeated(row: int | None, heading: str, field_key: str, first: str) -> Problem:
    message = (
        f"'{heading}' is a second column for the same field as '{first}'. Keep one column per "
        "field."
    )
    return _problem(row, heading, field_key, "duplicate_column", message, heading)


def _missing(spec: ListSpec, present: set[str], row: int | None, by_key: bool) -> list[Problem]:
    problems = []
    for spec_field in spec.fields:
        if spec_field.required and spec_field.key not in present:
            name = spec_field.key if by_key else spec_field.heading.strip()
            message = f"The required column '{name}' is missing. Add it with a value on every row."
            problems.append(_problem(row, name, spec_field.key, "missing_column", message, None))
    return problems


def _problem(
    row: int | None,
    column: str | None,
    field: str | None,
    code: str,
    message: str,
    value: str | None,
) -> Problem:
    return Problem(row, column, field, code, message, value and value[:100], "error")
