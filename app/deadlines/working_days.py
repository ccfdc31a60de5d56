"""Working-day arithmetic for inspection deadlines.

Deadlines are offsets from the notification day D0 in working days: weekends and the bank
holidays of England and Wales do not count. Times are wall-clock times in Europe/London, so a
deadline keeps its 09:00 across a change between GMT and BST.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import holidays

from app.core.clock import END_OF_DAY

LONDON = ZoneInfo("Europe/London")
_SATURDAY = 5


def working_days_calendar(years: int | None = None) -> holidays.HolidayBase:
    """Bank holidays of England and Wales, substitute days included.

    ``country_holidays("GB", subdiv="ENG")`` lists substitute days as "(observed)" (28 Dec 2026
    for Boxing Day) and one-off holidays such as coronation and jubilee days; England's and
    Wales' bank holidays are the same. Years are filled in on first use.
    """
    return holidays.country_holidays("GB", subdiv="ENG", years=years)


@functools.lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    # Building a calendar and filling in a year costs milliseconds; every push, request list
    # and schedule read asks, and a year's bank holidays do not change while a process runs.
    return frozenset(working_days_calendar(years=year))


def load_calendar(today: date) -> None:
    """Fill the cache for this year and the next: the holidays package imports its country
    modules on first use (~0.2 s), which the first request of a process would otherwise pay."""
    for year in (today.year, today.year + 1):
        _bank_holidays(year)


def is_working_day(day: date, calendar: holidays.HolidayBase | None = None) -> bool:
    if day.weekday() >= _SATURDAY:
        return False
    return day not in (_bank_holidays(day.year) if calendar is None else calendar)


def add_working_days(start: date, n: int, calendar: holidays.HolidayBase | None = None) -> date:
    """The n-th working day after ``start`` (D0 is ``start`` itself, working day or not)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    for _ in range(n):
        day += timedelta(days=1)
        while not is_working_day(day, calendar):
            day += timedelta(days=1)
    return day


def milestone_due_at(
    notification_at: datetime,
    working_days: int,
    at: time | Literal["end_of_day"],
    tz: ZoneInfo = LONDON,
    end_of_day: time = END_OF_DAY,
    calendar: holidays.HolidayBase | None = None,
) -> datetime:
    """When a milestone ``working_days`` after the notification is due, as an aware datetime.

    D0 is the notification's calendar day in ``tz`` (a notification at 00:30 BST on a Monday
    is a Monday notification even though it is still Sunday in UTC). ``end_of_day`` is a
    setting because operators may configure office hours.
    """
    if notification_at.tzinfo is None or notification_at.utcoffset() is None:
        raise ValueError("notification_at must be timezone-aware")
    d0 = notification_at.astimezone(tz).date()
    due_day = add_working_days(d0, working_days, calendar)
    wall_clock = end_of_day if at == "end_of_day" else at
    return datetime.combine(due_day, wall_clock, tzinfo=tz)
