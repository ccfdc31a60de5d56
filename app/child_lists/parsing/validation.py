"""A list's declared rules, compiled to checks over the normalised frame.

Each rule kind of ``app.themes.schema.rules`` has one compiler here; what a list checks comes only
from its spec. Row rules become masks (``Check``); rules about the list as a whole (row counts,
a selection's coverage) are decided here and come back as problems without a row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import assert_never

import polars as pl

from app.child_lists.parsing.checks import Check, list_problem, raw
from app.child_lists.parsing.dates import not_in_future, older_than, within_period
from app.child_lists.parsing.tables import ROW
from app.child_lists.parsing.types import IngestContext, Problem
from app.themes.schema.lists import ListSpec
from app.themes.schema.rules import (
    AgeMatchesBirthDate,
    AllOrNone,
    BlankUnless,
    BlankWhen,
    ChildInSelection,
    Condition,
    CoversSelection,
    DateOrder,
    NotInFuture,
    OlderThan,
    OnlyForAges,
    RequiredWhen,
    RowCount,
    Rule,
    SameForChild,
    Unique,
    WithinPeriod,
)

# Columns a check computes over the whole list before its problem rows are picked out.
_FIRST_ROW = "#first_row"
_FIRST_TEXT = "#first_text"


@dataclass(frozen=True)
class Rules:
    """What the rules see: the normalised frame and how to name its columns to the user."""

    spec: ListSpec
    frame: pl.DataFrame
    names: Mapping[str, str]
    present: frozenset[str]  # fields with a column in the file
    context: IngestContext

    @property
    def today(self) -> date:
        return self.context.today


def compile_rules(rules: Rules) -> tuple[list[Check], list[Problem]]:
    checks: list[Check] = []
    problems: list[Problem] = []
    for rule in rules.spec.rules:
        for found in _compile(rule, rules):
            if isinstance(found, Check):
                checks.append(found)
            else:
                problems.append(found)
    return checks, _once_per_selection(problems)


def _compile(rule: Rule, rules: Rules) -> Iterator[Check | Problem]:
    match rule:
        case OnlyForAges():
            yield _only_for_ages(rule, rules)
        case RequiredWhen():
            yield from _required_when(rule, rules)
        case BlankWhen():
            yield from _blank(rule, rules, rule.fields, _any(rule.when, rules))
        case BlankUnless():
            yield from _blank(rule, rules, rule.fields, ~_any(rule.unless, rules))
        case AllOrNone():
            yield _all_or_none(rule, rules)
        case DateOrder():
            yield _date_order(rule, rules)
        case NotInFuture():
            yield from not_in_future(rule, rules)
        case OlderThan():
            yield older_than(rule, rules)
        case WithinPeriod():
            yield within_period(rule, rules)
        case Unique():
            yield _unique(rule, rules)
        case SameForChild():
            yield from _same_for_child(rule, rules)
        case AgeMatchesBirthDate():
            yield _age_matches_birth_date(rule, rules)
        case RowCount():
            yield from _row_count(rule, rules)
        case ChildInSelection() | CoversSelection():
            yield from _selection(rule, rules)
        case _:  # a new rule kind in the schema needs a compiler here; mypy says so
            assert_never(rule)


# --- conditions -----------------------------------------------------------------------------


def _condition(condition: Condition, rules: Rules) -> pl.Expr:
    typed, text = pl.col(condition.field), pl.col(raw(condition.field))
    if condition.present is not None:
        return text.is_not_null() if condition.present else text.is_null()
    if condition.equals is not None:
        spec = rules.spec.field(condition.field)
        if spec is not None and spec.type == "date":
            return text == str(condition.equals)  # a date is compared as written
        return typed == pl.lit(condition.equals)
    expr = pl.lit(True)
    if condition.at_least is not None:
        expr = expr & (typed >= condition.at_least)
    if condition.at_most is not None:
        expr = expr & (typed <= condition.at_most)
    return expr


def _any(conditions: Sequence[Condition], rules: Rules) -> pl.Expr:
    return pl.any_horizontal(_condition(c, rules).fill_null(False) for c in conditions)


def _text(*parts: str | pl.Expr) -> pl.Expr:
    """A message built per row; only ever evaluated on the rows that have the problem."""
    return pl.concat_str(
        [p.cast(pl.String) if isinstance(p, pl.Expr) else pl.lit(p) for p in parts],
        ignore_nulls=True,
    )


def _first_of(fields: Sequence[str], given: bool) -> pl.Expr:
    """The first of ``fields`` that is given (or blank, if not ``given``) on the row."""
    tests = [pl.col(raw(f)).is_not_null() == given for f in fields]
    return pl.coalesce(pl.when(t).then(pl.lit(f)) for f, t in zip(fields, tests, strict=True))


# --- row rules ------------------------------------------------------------------------------


def _only_for_ages(rule: OnlyForAges, rules: Rules) -> Check:
    age = pl.col(rule.age_field)
    given = pl.any_horizontal(pl.col(raw(f)).is_not_null() for f in rule.fields)
    outside = (age < rule.min_age) | (age > rule.max_age)
    return Check(
        outside & given,
        _first_of(rule.fields, True),
        rule.kind,
        rule.severity,
        _text(f"{rule.message} (The child's age is ", age, ".)"),
        pl.coalesce(pl.col(raw(f)) for f in rule.fields),
    )


def _required_when(rule: RequiredWhen, rules: Rules) -> Iterator[Check | Problem]:
    # Every only_where condition holds, a blank field counting as holding (nothing shows not).
    only_where = (_condition(c, rules).fill_null(True) for c in rule.only_where)
    when = _any(rule.when, rules) & pl.all_horizontal(pl.lit(True), *only_where)
    for field in rule.fields:
        name = rules.names[field]
        if field in rules.present:
            yield Check(
                when & pl.col(raw(field)).is_null(),
                field,
                rule.kind,
                rule.severity,
                f"{rule.message} '{name}' is blank.",
                None,
            )
            continue
        # A whole column left out: one problem for it, not one for each row that needs it.
        needed = rules.frame.filter(when)
        if needed.height:
            yield list_problem(
                field,
                "missing_column",
                rule.severity,
                (
                    f"{rule.message} The column '{name}' is missing; "
                    f"{_rows_need(needed.height)} it, the first being row {needed[ROW][0]}."
                ),
            )


def _rows_need(count: int) -> str:
    return "1 row needs" if count == 1 else f"{count:,} rows need"


def _blank(
    rule: BlankWhen | BlankUnless, rules: Rules, fields: Sequence[str], applies: pl.Expr
) -> Iterator[Check]:
    for field in fields:
        text = pl.col(raw(field))
        yield Check(
            applies & text.is_not_null(),
            field,
            rule.kind,
            rule.severity,
            f"{rule.message} '{rules.names[field]}' should be blank here.",
            text,
        )


def _all_or_none(rule: AllOrNone, rules: Rules) -> Check:
    given = pl.sum_horizontal(pl.col(raw(f)).is_not_null() for f in rule.fields)
    missing = pl.concat_str(
        [
            pl.when(pl.col(raw(f)).is_null()).then(pl.lit(f"'{rules.names[f]}'"))
            for f in rule.fields
        ],
        separator=", ",
        ignore_nulls=True,
    )
    return Check(
        (given > 0) & (given < len(rule.fields)),
        _first_of(rule.fields, False),
        rule.kind,
        rule.severity,
        _text(f"{rule.message} Missing: ", missing, "."),
        None,
    )


def _date_order(rule: DateOrder, rules: Rules) -> Check:
    earlier, later = pl.col(raw(rule.earlier)), pl.col(raw(rule.later))
    return Check(
        pl.col(rule.later) < pl.col(rule.earlier),
        rule.later,
        rule.kind,
        rule.severity,
        _text(
            f"{rule.message} ('{rules.names[rule.earlier]}' ",
            earlier,
            f", '{rules.names[rule.later]}' ",
            later,
            ".)",
        ),
        later,
    )


def _unique(rule: Unique, rules: Rules) -> Check:
    fields = list(rule.fields)
    complete = pl.all_horizontal(pl.col(f).is_not_null() for f in fields)
    first = pl.col(ROW).min().over(fields)
    described = " and ".join(f"'{rules.names[f]}'" for f in fields)
    return Check(
        complete & (pl.col(ROW) != first),
        fields[0],
        rule.kind,
        rule.severity,
        _text(f"{rule.message} Row ", pl.col(_FIRST_ROW), f" has the same {described}."),
        pl.concat_str([pl.col(raw(f)) for f in fields], separator=" / "),
        context=(first.alias(_FIRST_ROW),),
    )


def _same_for_child(rule: SameForChild, rules: Rules) -> Iterator[Check]:
    child = rules.spec.child_id_field
    for field in rule.fields:
        typed = pl.col(field)
        yield Check(
            pl.col(child).is_not_null() & typed.ne_missing(typed.first().over(child)),
            field,
            rule.kind,
            rule.severity,
            _text(
                f"{rule.message} Row ",
                pl.col(_FIRST_ROW),
                " for this child has ",
                pl.col(_FIRST_TEXT),
                f" in '{rules.names[field]}'.",
            ),
            pl.col(raw(field)),
            context=(
                pl.col(ROW).first().over(child).alias(_FIRST_ROW),
                pl.col(raw(field)).first().over(child).fill_null("a blank").alias(_FIRST_TEXT),
            ),
        )


def _age_matches_birth_date(rule: AgeMatchesBirthDate, rules: Rules) -> Check:
    age, born, today = pl.col(rule.age_field), pl.col(rule.birth_date_field), rules.today
    # dt.month() and dt.day() are 8-bit: widen before making month-day numbers of them.
    birthday = born.dt.month().cast(pl.Int32) * 100 + born.dt.day().cast(pl.Int32)
    had_birthday = birthday <= today.month * 100 + today.day
    years = today.year - born.dt.year().cast(pl.Int64) - pl.when(had_birthday).then(0).otherwise(1)
    expected = pl.when(born > today).then(pl.lit(rule.unborn_age, pl.Int64)).otherwise(years)
    return Check(
        age != expected,
        rule.age_field,
        rule.kind,
        rule.severity,
        _text(
            f"{rule.message} '{rules.names[rule.birth_date_field]}' ",
            pl.col(raw(rule.birth_date_field)),
            " gives ",
            expected,
            ", not ",
            age,
            ".",
        ),
        pl.col(raw(rule.age_field)),
    )


# --- list rules -----------------------------------------------------------------------------


def _row_count(rule: RowCount, rules: Rules) -> Iterator[Problem]:
    counted = _any(rule.where, rules) if rule.where else pl.lit(True)
    found = rules.frame.filter(counted).height if rules.frame.height else 0
    low = rule.minimum is not None and found < rule.minimum
    high = rule.maximum is not None and found > rule.maximum
    if low or high:
        rows = "such rows" if rule.where else "rows"
        yield list_problem(None, rule.kind, rule.severity, f"{rule.message} Found {found} {rows}.")


def _selection(rule: ChildInSelection | CoversSelection, rules: Rules) -> Iterator[Check | Problem]:
    chosen = rules.context.selections.get(rule.selection)
    child = rules.spec.child_id_field
    if chosen is None:
        yield _not_made(rule.selection)
    elif isinstance(rule, ChildInSelection):
        ids = pl.Series(sorted(chosen), dtype=pl.String).implode()
        yield Check(
            pl.col(child).is_not_null() & ~pl.col(child).is_in(ids),
            child,
            rule.kind,
            rule.severity,
            f"{rule.message} (The child is not in the selection.)",
            pl.col(raw(child)),
        )
    else:
        listed = set(rules.frame[child].drop_nulls().to_list())
        for missing in sorted(chosen - listed):
            yield list_problem(
                child,
                rule.kind,
                rule.severity,
                f"{rule.message} There is no row for child '{missing}'.",
                missing,
            )


def _not_made(selection: str) -> Problem:
    return list_problem(
        None,
        "selection_not_made",
        "error",
        (
            f"The selection '{selection}' has not been made yet, so this list cannot be checked "
            "against it. Push the list again once the lead inspector has made the selection."
        ),
        selection,
    )


def _once_per_selection(problems: list[Problem]) -> list[Problem]:
    seen: set[str | None] = set()
    kept: list[Problem] = []
    for problem in problems:
        if problem.code == "selection_not_made":
            if problem.value in seen:
                continue
            seen.add(problem.value)
        kept.append(problem)
    return kept
