"""The live schedule through the API: working days, holidays, clock changes, moves, ICS."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.child_lists.exports import XLSX_MEDIA_TYPE
from app.inspections.models import Inspection
from tests.conftest import Reader
from tests.factories import Factory, World

LONDON = ZoneInfo("Europe/London")
# How the API writes every instant (app.core.moments.utc_text).
WIRE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def london(answered: str) -> str:
    """An instant as answered (UTC), read as the London wall time the guidance counts in:
    `Z` in winter, `+01:00` in summer, seconds only."""
    assert WIRE.match(answered), answered
    local = datetime.fromisoformat(answered).astimezone(LONDON).replace(microsecond=0)
    return local.isoformat().replace("+00:00", "Z")


def _world(factory: Factory, theme: str, notified: datetime) -> World:
    return factory.world(theme, notification_at=notified)


def _due(client: TestClient, world: World, actor: str = "lead") -> dict[str, str]:
    response = client.get(
        f"/v1/inspections/{world.inspection_id}/schedule", headers=getattr(world, actor).headers
    )
    assert response.status_code == 200
    return {m["key"]: london(m["due_at"]) for m in response.json()["milestones"]}


def test_mental_health_week_before_easter(client: TestClient, factory: Factory) -> None:
    # Monday 22 March 2027; Good Friday 26 March and Easter Monday 29 March are skipped, and
    # British Summer Time starts on Sunday 28 March.
    world = _world(factory, "mental-health", datetime(2027, 3, 22, 9, 0, tzinfo=LONDON))
    assert _due(client, world) == {
        "lists-cin-cp-cla": "2027-03-25T09:00:00Z",
        "meetings-and-lists": "2027-03-25T23:59:59Z",
        "selection": "2027-03-30T10:00:00+01:00",
        "documents": "2027-04-01T23:59:59+01:00",
        "evaluations": "2027-04-05T23:59:59+01:00",
        "cqc-request": "2027-04-06T23:59:59+01:00",
        "engagement": "2027-04-06T23:59:59+01:00",
        "fieldwork": "2027-04-07T00:00:00+01:00",
    }


def test_domestic_abuse_tuesday_before_christmas(client: TestClient, factory: Factory) -> None:
    # Tuesday 22 December 2026: 25 December, Boxing Day's substitute (Monday 28) and
    # New Year's Day are not working days.
    world = _world(factory, "domestic-abuse", datetime(2026, 12, 22, 9, 0, tzinfo=LONDON))
    due = _due(client, world)
    assert due["lists-cin-cp"] == "2026-12-22T23:59:59Z"
    assert due["shortlist"] == "2026-12-23T12:00:00Z"
    assert due["case-lists"] == "2026-12-23T15:00:00Z"
    assert due["shortlist-information"] == "2026-12-24T15:00:00Z"
    assert due["meetings-and-lists"] == "2026-12-24T23:59:59Z"
    assert due["selection"] == "2026-12-29T12:00:00Z"
    assert due["documents"] == "2026-12-31T23:59:59Z"
    assert due["evaluations"] == "2027-01-05T23:59:59Z"
    assert due["consent"] == "2027-01-06T23:59:59Z"


def test_schedule_across_the_october_clock_change(client: TestClient, factory: Factory) -> None:
    world = _world(factory, "mental-health", datetime(2026, 10, 19, 9, 0, tzinfo=LONDON))
    due = _due(client, world)
    assert due["lists-cin-cp-cla"] == "2026-10-22T09:00:00+01:00"
    assert due["fieldwork"] == "2026-11-02T00:00:00Z"


def test_notification_on_a_bank_holiday(client: TestClient, factory: Factory) -> None:
    # Monday 31 August 2026 is the summer bank holiday: D0 stays that day, D1 is Tuesday.
    world = _world(factory, "mental-health", datetime(2026, 8, 31, 9, 0, tzinfo=LONDON))
    due = _due(client, world)
    assert due["lists-cin-cp-cla"] == "2026-09-03T09:00:00+01:00"
    assert due["selection"] == "2026-09-04T10:00:00+01:00"


def test_states_follow_the_clock(client: TestClient, factory: Factory) -> None:
    past = _world(factory, "mental-health", datetime(2026, 3, 2, 9, 0, tzinfo=LONDON))
    states = {
        m["key"]: m["state"]
        for m in client.get(
            f"/v1/inspections/{past.inspection_id}/schedule", headers=past.lead.headers
        ).json()["milestones"]
    }
    assert states["lists-cin-cp-cla"] == "overdue"
    assert states["fieldwork"] == "met"
    future = _world(factory, "mental-health", datetime(2030, 3, 4, 9, 0, tzinfo=LONDON))
    milestones = client.get(
        f"/v1/inspections/{future.inspection_id}/schedule", headers=future.agency.headers
    ).json()["milestones"]
    assert {m["state"] for m in milestones} == {"pending"}
    assert milestones[0]["satisfied_by"][0]["kind"] == "lists_pushed"


def test_lead_moves_a_milestone_with_a_reason(
    client: TestClient, factory: Factory, db: Reader
) -> None:
    world = _world(factory, "mental-health", datetime(2030, 3, 4, 9, 0, tzinfo=LONDON))
    url = f"/v1/inspections/{world.inspection_id}/schedule/documents"
    body = {"due_at": "2030-03-14T12:00:00+00:00", "reason": "Records system outage at the council"}
    moved = client.put(url, json=body, headers=world.lead.headers)
    assert moved.status_code == 200
    assert london(moved.json()["due_at"]) == "2030-03-14T12:00:00Z"
    assert london(moved.json()["default_due_at"]) == "2030-03-12T23:59:59Z"
    assert moved.json()["moved"]["reason"] == body["reason"]
    assert _due(client, world, "agency")["documents"] == "2030-03-14T12:00:00Z"
    events = db.all(select(AuditEvent).where(AuditEvent.action == "schedule.milestone_moved"))
    assert [e.detail["reason"] for e in events] == [body["reason"]]
    assert events[0].client_id == world.lead.client_id


@pytest.mark.parametrize(
    ("actor", "status"),
    [("inspector", 403), ("agency", 403), ("operator", 403), ("other_area_agency", 403)],
)
def test_only_the_lead_moves_milestones(
    client: TestClient, factory: Factory, actor: str, status: int
) -> None:
    world = _world(factory, "mental-health", datetime(2030, 3, 4, 9, 0, tzinfo=LONDON))
    response = client.put(
        f"/v1/inspections/{world.inspection_id}/schedule/documents",
        json={"due_at": "2030-03-14T12:00:00+00:00", "reason": "because"},
        headers=getattr(world, actor).headers,
    )
    assert response.status_code == status


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"due_at": "2030-03-14T12:00:00", "reason": "no offset"}, "body.due_at"),
        ({"due_at": "2020-01-01T12:00:00+00:00", "reason": "before D0"}, "body.due_at"),
        ({"due_at": "2030-03-14T12:00:00+00:00"}, "body.reason"),
    ],
)
def test_bad_moves_name_the_field(
    client: TestClient, factory: Factory, body: dict[str, str], field: str
) -> None:
    world = _world(factory, "mental-health", datetime(2030, 3, 4, 9, 0, tzinfo=LONDON))
    response = client.put(
        f"/v1/inspections/{world.inspection_id}/schedule/documents",
        json=body,
        headers=world.lead.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_unknown_milestone_is_404(client: TestClient, factory: Factory) -> None:
    world = _world(factory, "mental-health", datetime(2030, 3, 4, 9, 0, tzinfo=LONDON))
    response = client.put(
        f"/v1/inspections/{world.inspection_id}/schedule/shortlist",
        json={"due_at": "2030-03-14T12:00:00+00:00", "reason": "not in this theme"},
        headers=world.lead.headers,
    )
    assert response.status_code == 404


def test_calendar_feed(client: TestClient, factory: Factory) -> None:
    world = _world(factory, "domestic-abuse", datetime(2026, 12, 22, 9, 0, tzinfo=LONDON))
    response = client.get(
        f"/v1/inspections/{world.inspection_id}/schedule.ics", headers=world.agency.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    text = response.text
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 10
    assert "DTSTART:20261229T120000Z" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def _content_lines(body: bytes) -> list[str]:
    """Strictly RFC 5545: CRLF ends every line, no other CR or LF, 75 octets at most,
    each line whole UTF-8 (a fold never splits a character); then unfolded."""
    assert body.endswith(b"\r\n")
    physical = body[:-2].split(b"\r\n")
    for line in physical:
        assert b"\r" not in line
        assert b"\n" not in line
        assert len(line) <= 75
        line.decode("utf-8")  # raises if a fold cut a character in two
    logical: list[str] = []
    for line in physical:
        if line.startswith(b" "):
            logical[-1] += line[1:].decode()
        else:
            logical.append(line.decode())
    return logical


def test_calendar_text_is_escaped_and_folded(client: TestClient, factory: Factory) -> None:
    world = _world(factory, "mental-health", datetime(2030, 3, 4, 9, 0, tzinfo=LONDON))
    area = "North\rX-INJECTED:1; a, b \\ c\nd " + "Ünïcödé " * 12
    with factory.state.session_factory.begin() as session:
        inspection = session.get(Inspection, world.inspection_id)
        assert inspection is not None
        inspection.area_name = area  # written behind the API, whatever it accepts
    response = client.get(
        f"/v1/inspections/{world.inspection_id}/schedule.ics", headers=world.agency.headers
    )
    assert response.status_code == 200
    lines = _content_lines(response.content)
    assert not any(line.startswith("X-INJECTED") for line in lines)
    [calname] = [line for line in lines if line.startswith("X-WR-CALNAME:")]
    assert calname.startswith("X-WR-CALNAME:JTAI North\\nX-INJECTED:1\\; a\\, b \\\\ c\\nd ")
    # A calendar library reads the same properties back: nothing injected, every event there.
    calendar = Calendar.from_ical(response.content)
    assert "X-INJECTED" not in calendar
    assert len(calendar.walk("VEVENT")) == 8
    # The name unescapes (RFC 5545 3.3.11) to what was stored, the bare CR as a line break.
    raw_name = calendar["X-WR-CALNAME"].to_ical().decode()  # an X- property is kept raw
    assert _unescape(raw_name).startswith(f"JTAI {area}".replace("\r", "\n"))


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], text)


def test_calendar_and_list_files_are_attachments_never_rendered(
    client: TestClient, factory: Factory
) -> None:
    world = _world(factory, "mental-health", datetime(2030, 3, 4, 9, 0, tzinfo=LONDON))
    base = f"/v1/inspections/{world.inspection_id}"
    factory.stored_list(world.inspection_id, "children-in-need", [{"child_id": "C1"}])
    files = {
        "schedule.ics": client.get(f"{base}/schedule.ics", headers=world.agency.headers),
        "children-in-need-template.xlsx": client.get(
            f"{base}/lists/children-in-need/template.xlsx", headers=world.agency.headers
        ),
        "children-in-need-v1.csv": client.get(
            f"{base}/lists/children-in-need", headers={**world.lead.headers, "Accept": "text/csv"}
        ),
        "children-in-need-v1.xlsx": client.get(
            f"{base}/lists/children-in-need",
            headers={**world.lead.headers, "Accept": XLSX_MEDIA_TYPE},
        ),
    }
    for name, response in files.items():
        assert response.status_code == 200, (name, response.text)
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;"), name
        assert f"filename*=UTF-8''{name}" in disposition
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == "sandbox"
        assert response.headers["cache-control"] == "no-store"


def test_other_area_cannot_see_the_schedule(client: TestClient, factory: Factory) -> None:
    world = _world(factory, "mental-health", datetime(2030, 3, 4, 9, 0, tzinfo=LONDON))
    for suffix in ("/schedule", "/schedule.ics"):
        response = client.get(
            f"/v1/inspections/{world.inspection_id}{suffix}",
            headers=world.other_area_agency.headers,
        )
        assert response.status_code == 404
