"""Deadlines in working days from the notification day D0, in Europe/London wall-clock time."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.deadlines.working_days import (
    add_working_days,
    is_working_day,
    milestone_due_at,
    working_days_calendar,
)
from app.themes.registry import builtin_themes

LONDON = ZoneInfo("Europe/London")
GMT = UTC
BST = timezone(timedelta(hours=1))


def schedule(theme_key: str, notification_at: datetime) -> dict[str, datetime]:
    theme = builtin_themes().get(theme_key)
    return {
        m.key: milestone_due_at(notification_at, m.working_days, m.due_time())
        for m in theme.milestones
    }


def test_calendar_has_substitute_days() -> None:
    calendar = working_days_calendar()
    assert date(2026, 12, 28) in calendar  # Boxing Day falls on a Saturday
    assert date(2027, 12, 27) in calendar  # both Christmas days fall at a weekend
    assert date(2027, 12, 28) in calendar
    assert date(2022, 9, 19) in calendar  # one-off: a state funeral
    assert is_working_day(date(2026, 12, 29))
    assert not is_working_day(date(2026, 12, 27))  # a Sunday


def test_d0_is_the_start_day() -> None:
    assert add_working_days(date(2026, 6, 1), 0) == date(2026, 6, 1)
    assert add_working_days(date(2026, 6, 6), 0) == date(2026, 6, 6)  # even on a Saturday


def test_weekends_are_skipped() -> None:
    friday = date(2026, 6, 5)
    assert add_working_days(friday, 1) == date(2026, 6, 8)
    assert add_working_days(date(2026, 6, 6), 1) == date(2026, 6, 8)  # from a Saturday


def test_negative_offsets_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 6, 1), -1)


def test_monday_before_easter_2027_mental_health() -> None:
    # Good Friday 26 March and Easter Monday 29 March 2027 do not count, and the clocks go
    # forward on 28 March: the notification is in GMT, the later deadlines in BST.
    due = schedule("mental-health", datetime(2027, 3, 22, 9, 0, tzinfo=LONDON))
    assert due == {
        "lists-cin-cp-cla": datetime(2027, 3, 25, 9, 0, tzinfo=GMT),
        "meetings-and-lists": datetime(2027, 3, 25, 23, 59, 59, tzinfo=GMT),
        "selection": datetime(2027, 3, 30, 10, 0, tzinfo=BST),
        "documents": datetime(2027, 4, 1, 23, 59, 59, tzinfo=BST),
        "evaluations": datetime(2027, 4, 5, 23, 59, 59, tzinfo=BST),
        "cqc-request": datetime(2027, 4, 6, 23, 59, 59, tzinfo=BST),
        "engagement": datetime(2027, 4, 6, 23, 59, 59, tzinfo=BST),
        "fieldwork": datetime(2027, 4, 7, 0, 0, tzinfo=BST),
    }
    assert due["selection"].isoformat() == "2027-03-30T10:00:00+01:00"


def test_tuesday_before_christmas_2026_domestic_abuse() -> None:
    # 25 and 26 December and the substitute day 28 December 2026 are skipped, then 1 January.
    due = schedule("domestic-abuse", datetime(2026, 12, 22, 9, 0, tzinfo=LONDON))
    days = {key: at.date() for key, at in due.items()}
    assert days == {
        "lists-cin-cp": date(2026, 12, 22),
        "shortlist": date(2026, 12, 23),
        "case-lists": date(2026, 12, 23),
        "shortlist-information": date(2026, 12, 24),
        "meetings-and-lists": date(2026, 12, 24),
        "selection": date(2026, 12, 29),
        "documents": date(2026, 12, 31),
        "evaluations": date(2027, 1, 5),
        "cqc-request": date(2027, 1, 6),
        "consent": date(2027, 1, 6),
    }
    assert due["shortlist"] == datetime(2026, 12, 23, 12, 0, tzinfo=GMT)
    assert due["case-lists"] == datetime(2026, 12, 23, 15, 0, tzinfo=GMT)


def test_deadlines_across_the_october_2026_clock_change() -> None:
    # Clocks go back on Sunday 25 October 2026: +01:00 before, +00:00 after.
    due = schedule("mental-health", datetime(2026, 10, 19, 9, 0, tzinfo=LONDON))
    assert due["lists-cin-cp-cla"].isoformat() == "2026-10-22T09:00:00+01:00"
    assert due["selection"].isoformat() == "2026-10-23T10:00:00+01:00"
    assert due["documents"].isoformat() == "2026-10-27T23:59:59+00:00"
    assert due["fieldwork"].isoformat() == "2026-11-02T00:00:00+00:00"


def test_notification_on_a_bank_holiday() -> None:
    # Late summer bank holiday, Monday 31 August 2026: D0 is that day, D1 the Tuesday.
    monday = datetime(2026, 8, 31, 9, 0, tzinfo=LONDON)
    assert milestone_due_at(monday, 0, "end_of_day").date() == date(2026, 8, 31)
    assert milestone_due_at(monday, 1, time(12, 0)) == datetime(2026, 9, 1, 12, 0, tzinfo=BST)


def test_d0_is_the_london_calendar_day() -> None:
    # 23:30 UTC on Sunday is 00:30 BST on Monday: a Monday notification.
    sunday_utc = datetime(2026, 5, 31, 23, 30, tzinfo=GMT)
    assert milestone_due_at(sunday_utc, 0, "end_of_day").date() == date(2026, 6, 1)
    assert milestone_due_at(sunday_utc, 1, time(9, 0)).date() == date(2026, 6, 2)


def test_end_of_day_default_and_configured() -> None:
    notified = datetime(2026, 6, 1, 9, 0, tzinfo=LONDON)
    default = milestone_due_at(notified, 2, "end_of_day")
    assert default == datetime(2026, 6, 3, 23, 59, 59, tzinfo=BST)
    assert default.tzinfo == LONDON
    office_hours = milestone_due_at(notified, 2, "end_of_day", end_of_day=time(17, 30))
    assert office_hours == datetime(2026, 6, 3, 17, 30, tzinfo=BST)
    # A configured end of day does not move a deadline with its own time.
    assert milestone_due_at(notified, 2, time(9, 0), end_of_day=time(17, 30)).hour == 9


def test_naive_notification_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        milestone_due_at(datetime(2026, 6, 1, 9, 0), 1, "end_of_day")
