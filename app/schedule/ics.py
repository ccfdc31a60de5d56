"""The schedule as an iCalendar (RFC 5545) feed that calendar programs can subscribe to."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from app.schedule.live import MilestoneStatus

PRODUCT_ID = "-//JTAI Exchange//Inspection schedule//EN"


# Every way text can break a line: CRLF, a bare CR or LF, and the Unicode line breaks.
_LINE_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
# RFC 5545 TEXT allows no other control character (HTAB aside).
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def _escape(value: str) -> str:
    """A TEXT value per RFC 5545 3.3.11: backslash, ';' and ',' escaped, line breaks as \\n.

    A bare CR is a line break to some readers: left raw, text after it would be read as a
    property of its own.
    """
    escaped = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return _CONTROLS.sub("", _LINE_BREAKS.sub("\\\\n", escaped))


def _fold(line: str) -> list[str]:
    """Lines are folded at 75 octets; continuation lines start with a space."""
    encoded = line.encode("utf-8")
    parts, start, width = [], 0, 75
    while len(encoded) - start > width:
        end = start + width
        while end > start and (encoded[end] & 0xC0) == 0x80:  # never split a UTF-8 sequence
            end -= 1
        parts.append(encoded[start:end].decode("utf-8"))
        start, width = end, 74
    parts.append(encoded[start:].decode("utf-8"))
    return [parts[0], *(" " + part for part in parts[1:])]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(inspection_id: uuid.UUID, status: MilestoneStatus, now: datetime) -> list[str]:
    milestone = status.milestone
    description = f"Responsible: {', '.join(milestone.responsible)}. State: {status.state.value}."
    if milestone.note:
        description += f" {milestone.note}"
    return [
        "BEGIN:VEVENT",
        f"UID:{inspection_id}-{milestone.key}@jtai-exchange",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(status.due_at)}",
        f"DTEND:{_stamp(status.due_at)}",
        f"SUMMARY:{_escape(milestone.title)}",
        f"DESCRIPTION:{_escape(description)}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def render_calendar(
    inspection_id: uuid.UUID, name: str, statuses: Iterable[MilestoneStatus], now: datetime
) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT_ID}",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_escape(name)}",
    ]
    for status in statuses:
        lines.extend(_event(inspection_id, status, now))
    lines.append("END:VCALENDAR")
    return "".join(folded + "\r\n" for line in lines for folded in _fold(line))
