"""Problems as data: a check is a polars mask over the rows plus how to describe a hit.

All masks of a push are evaluated in one ``select`` (polars runs them in parallel) and only the
checks that hit anything are filtered and described, so a clean list of a hundred thousand rows
builds no per-row Python objects at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from app.child_lists.parsing.tables import ROW
from app.child_lists.parsing.types import Problem, Severity

# One row per problem; ROW is null for problems with the whole list or a whole column.
PROBLEM_SCHEMA: dict[str, type[pl.DataType]] = {
    ROW: pl.Int64,
    "field": pl.String,
    "code": pl.String,
    "severity": pl.String,
    "message": pl.String,
    "value": pl.String,
}
VALUE_CHARS = 100


def raw(key: str) -> str:
    """The column holding a field's text as written (stripped, null when blank)."""
    return f"raw:{key}"


@dataclass(frozen=True)
class Check:
    """Rows where ``mask`` holds have a problem. ``field``, ``message`` and ``value`` are
    evaluated on those rows only; what they need from other rows (a window over the child's
    rows, say) goes in ``context``: named columns computed on the whole frame first."""

    mask: pl.Expr
    field: str | pl.Expr | None
    code: str
    severity: Severity
    message: str | pl.Expr
    value: pl.Expr | None
    context: tuple[pl.Expr, ...] = ()


def _lit(value: str | pl.Expr | None) -> pl.Expr:
    return value if isinstance(value, pl.Expr) else pl.lit(value, dtype=pl.String)


@dataclass(frozen=True)
class Found:
    """The first ``keep`` problems of each check, in row order, and how many there are in all
    by severity: a list wrong in every cell has millions, and the report shows a thousand."""

    first: pl.DataFrame
    counts: dict[str, int]


def run_checks(frame: pl.DataFrame, checks: Sequence[Check], keep: int) -> Found:
    if not checks or frame.height == 0:
        return Found(pl.DataFrame(schema=PROBLEM_SCHEMA), {})
    masks = frame.select(
        check.mask.fill_null(False).alias(str(i)) for i, check in enumerate(checks)
    )
    hits = masks.sum().row(0)
    counts: dict[str, int] = {}
    for check, count in zip(checks, hits, strict=True):
        counts[check.severity] = counts.get(check.severity, 0) + count
    parts = [
        frame.with_columns(masks.to_series(i).alias("#hit"))
        .lazy()
        .with_columns(check.context)  # over the whole list: it may look at a child's other rows
        .filter(pl.col("#hit"))
        .head(keep)  # the report's first problems are among each check's first ones
        .select(
            pl.col(ROW),
            _lit(check.field).alias("field"),
            pl.lit(check.code).alias("code"),
            pl.lit(check.severity).alias("severity"),
            _lit(check.message).alias("message"),
            _lit(None if check.value is None else check.value.cast(pl.String)).alias("value"),
        )
        .collect()
        for i, (check, count) in enumerate(zip(checks, hits, strict=True))
        if count
    ]
    return Found(pl.concat(parts) if parts else pl.DataFrame(schema=PROBLEM_SCHEMA), counts)


def problem_frame(problems: Sequence[Problem]) -> pl.DataFrame:
    """Problems found outside the row masks, in the same shape as ``run_checks`` gives."""
    return pl.DataFrame(
        [(p.row, p.field, p.code, p.severity, p.message, p.value) for p in problems],
        schema=PROBLEM_SCHEMA,
        orient="row",
    )


def list_problem(
    field: str | None, code: str, severity: Severity, message: str, value: str | None = None
) -> Problem:
    """A problem with the list as a whole (``column`` is filled in from ``field`` later)."""
    return Problem(None, None, field, code, message, value, severity)
