"""``ingest``: one push of a child list, from body bytes to normalised rows and a report.

The parser's entry point; what it takes and gives back is defined in ``types``. Pure: no HTTP,
no database. The caller maps ``UnsupportedMediaTypeError`` to 415, ``BodyTooLargeError`` to 413
and ``UnreadableFileError`` to 422 (all are ``IngestError`` with a ``code``), stores ``frame``
(or ``rows``) when ``accepted``, and returns the report either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

import polars as pl

from app.child_lists.parsing.checks import VALUE_CHARS, Found, problem_frame, run_checks
from app.child_lists.parsing.headings import HeadingMatch, HeadingMatcher, match_headings
from app.child_lists.parsing.normalise import normalise
from app.child_lists.parsing.tables import ROW, join_body, media_kind, read_table
from app.child_lists.parsing.types import (
    DEFAULT_LIMITS,
    IngestContext,
    IngestResult,
    Limits,
    Problem,
    Severity,
)
from app.child_lists.parsing.validation import Rules, compile_rules
from app.themes.schema.lists import ListSpec
from app.themes.schema.theme import Theme


def ingest(
    body: bytes | Iterable[bytes],
    media_type: str,
    spec: ListSpec,
    theme: Theme,
    context: IngestContext,
    *,
    limits: Limits = DEFAULT_LIMITS,
    rows_ready: Callable[[pl.DataFrame, pl.Series], None] | None = None,
) -> IngestResult:
    """Read, normalise and validate one push of ``spec``'s list.

    ``media_type`` is the request's Content-Type (parameters such as charset are ignored: CSV
    encodings are recognised from the bytes). ``rows_ready`` is given the rows (``frame`` and
    ``numbers`` of the result) as soon as they are typed, before they are checked: the
    sandboxed reader starts encoding them for storage meanwhile.
    """
    kind = media_kind(media_type)
    matcher = HeadingMatcher(spec)
    table = read_table(kind, join_body(body, limits), matcher, limits)
    match = match_headings(
        matcher,
        table.headings,
        table.has_values(),
        table.heading_row,
        by_key=table.keyed,
        # JSON names its columns in its rows, so an empty list has none, and needs none.
        require=not table.keyed or table.frame.height > 0,
    )
    names = _column_names(spec, match, table.keyed)
    normalised = normalise(table, match.columns, spec, theme, context.today, limits, names)
    frame, numbers = normalised.frame.select(f.key for f in spec.fields), normalised.frame[ROW]
    if rows_ready is not None:
        rows_ready(frame, numbers)
    present = frozenset(column.field for column in match.columns)
    rule_checks, list_problems = compile_rules(
        Rules(spec, normalised.frame, names, present, context)
    )
    found = run_checks(normalised.frame, [*normalised.checks, *rule_checks], limits.max_problems)
    report = _report(spec, match.problems, problem_frame(list_problems), found, names, limits)
    return IngestResult(
        frame=frame,
        numbers=numbers,
        problems=report.problems,
        problem_count=report.problem_count,
        error_count=report.error_count,
        warning_count=report.warning_count,
        headings=match.headings(),
        sheet=table.sheet,
    )


def _column_names(spec: ListSpec, match: HeadingMatch, keyed: bool) -> dict[str, str]:
    """How each field is named to the user: its heading as written in the file; the list's own
    heading when the file has no such column; the key for JSON, which has keys, not headings."""
    if keyed:
        return {f.key: f.key for f in spec.fields}
    written = {column.field: column.heading for column in match.columns}
    return {f.key: written.get(f.key, f.heading.strip()) for f in spec.fields}


class _Report(NamedTuple):
    problems: list[Problem]
    problem_count: int
    error_count: int
    warning_count: int


def _report(
    spec: ListSpec,
    heading_problems: list[Problem],
    listed: pl.DataFrame,
    found: Found,
    names: Mapping[str, str],
    limits: Limits,
) -> _Report:
    """The first ``max_problems`` problems in reading order (the whole list and its headings
    first, then by row and column) and the counts of all of them."""
    every = pl.concat([listed, found.first])
    counts = dict(found.counts)
    for severity, count in listed.group_by("severity").len().iter_rows():
        counts[severity] = counts.get(severity, 0) + count
    for problem in heading_problems:
        counts[problem.severity] = counts.get(problem.severity, 0) + 1
    order = {f.key: i for i, f in enumerate(spec.fields)}
    room = max(limits.max_problems - len(heading_problems), 0)
    first = (
        every.with_columns(
            pl.col("field")
            .replace_strict(order, default=len(order), return_dtype=pl.Int64)
            .alias("#order"),
            pl.col("value").str.slice(0, VALUE_CHARS),
        )
        .sort([ROW, "#order"], nulls_last=False, maintain_order=True)
        .head(room)
    )
    problems = heading_problems[: limits.max_problems] + [
        _problem(row, names) for row in first.iter_rows(named=True)
    ]
    return _Report(
        problems,
        sum(counts.values()),
        counts.get("error", 0),
        counts.get("warning", 0),
    )


def _problem(row: Mapping[str, object], names: Mapping[str, str]) -> Problem:
    number, field, value = row[ROW], row["field"], row["value"]
    severity: Severity = "warning" if row["severity"] == "warning" else "error"
    return Problem(
        row=number if isinstance(number, int) else None,
        column=names.get(field) if isinstance(field, str) else None,
        field=field if isinstance(field, str) else None,
        code=str(row["code"]),
        message=str(row["message"]),
        value=value if isinstance(value, str) else None,
        severity=severity,
    )
