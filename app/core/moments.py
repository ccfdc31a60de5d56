"""Instants in request bodies and queries: with an offset, and within the years the service
can reason about.

Python's datetime stops at year 9999: `9999-12-31T23:59:59-14:00` cannot be turned into UTC,
and a notification in 9999 leaves no room to count working days after it. No inspection,
deadline, meeting or confirmation falls outside 2000-2100, so anything else is refused at the
edge with 422 naming the field, before any arithmetic can fail on it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, PlainSerializer, WithJsonSchema

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)


def _within_years(value: datetime) -> datetime:
    # Compare the naive wall time first: astimezone itself overflows at the very edges.
    if (
        not EARLIEST.replace(tzinfo=None)
        <= value.replace(tzinfo=None)
        <= LATEST.replace(tzinfo=None)
    ):
        raise ValueError("must fall between 2000-01-01 and 2100-12-31")
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_within_years)]


def utc_text(value: datetime) -> str:
    """One form for every instant the API answers with: UTC, `Z`, always six fractional
    digits, so that clients parse one format and the texts sort as the instants do."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Instants in responses (what Moment is to requests).
Instant = Annotated[
    datetime,
    PlainSerializer(utc_text, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "examples": ["2027-03-22T09:00:00.000000Z"]},
        mode="serialization",
    ),
]
