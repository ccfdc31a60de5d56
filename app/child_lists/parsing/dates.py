"""The rules about dates in time: not after the day the list is received, not too long
before it, and within the list's look-back window. The others are in ``validation``."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING

import polars as pl

from app.child_lists.parsing.checks import Check, raw
from app.themes.schema.rules import NotInFuture, OlderThan, WithinPeriod

if TYPE_CHECKING:
    from app.child_lists.parsing.validation import Rules


def not_in_future(rule: NotInFuture, rules: Rules) -> Iterator[Check]:
    for field in rule.fields:
        yield Check(
            pl.col(field) > rules.today,
            field,
            rule.kind,
            rule.severity,
            f"{rule.message} '{rules.names[field]}' is after today ({rules.today:%d/%m/%Y}).",
            pl.col(raw(field)),
        )


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier, or the month's last day where it has no such day."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))


def within_period(rule: WithinPeriod, rules: Rules) -> Check:
    months = rules.spec.period_months
    assert months is not None  # the theme's validation refuses the rule on a list without one
    start = months_before(rules.today, months)
    dates = [pl.col(field) for field in rule.fields]
    some_given = pl.any_horizontal([value.is_not_null() for value in dates])
    none_inside = pl.all_horizontal([value.is_null() | (value < start) for value in dates])
    names = " or ".join(f"'{rules.names[field]}'" for field in rule.fields)
    return Check(
        some_given & none_inside,
        rule.fields[0],
        rule.kind,
        rule.severity,
        f"{rule.message} {names} falls before the list's window of {months} months "
        f"(from {start:%d/%m/%Y}).",
        pl.col(raw(rule.fields[0])),
    )


def older_than(rule: OlderThan, rules: Rules) -> Check:
    cutoff = rules.today - timedelta(days=rule.days)
    return Check(
        pl.col(rule.field) < cutoff,
        rule.field,
        rule.kind,
        rule.severity,
        f"{rule.message} '{rules.names[rule.field]}' is more than {rule.days} days ago "
        f"(before {cutoff:%d/%m/%Y}).",
        pl.col(raw(rule.field)),
    )
