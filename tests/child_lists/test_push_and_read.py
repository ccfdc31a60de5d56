"""Pushing lists through the API: versions, reports, dry runs, preconditions, reads, exports."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.child_lists.models import ListBlock
from tests.conftest import Reader
from tests.factories import Factory, World
from tests.list_rows import birth_date, cin_row, cla_row, cp_row, push_json

LONDON = ZoneInfo("Europe/London")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROWS = {
    "children-in-need": cin_row("C1"),
    "child-protection": cp_row("P1"),
    "looked-after": cla_row("L1"),
}


def test_push_creates_versions_and_reads_them_back(client: TestClient, world: World) -> None:
    first = push_json(client, world, "children-in-need", [cin_row("C1"), cin_row("C2")])
    assert first.status_code == 201, first.json()
    assert first.json()["version"]["number"] == 1
    assert first.json()["version"]["late"] is False
    assert first.json()["report"]["stored"] is True
    second = client.put(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        json={"rows": [cin_row("C1"), cin_row("C3"), cin_row("C4")]},
        headers={**world.agency.headers, "If-Match": '"1"'},
    )
    assert second.status_code == 201
    assert second.json()["version"]["number"] == 2
    page = client.get(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        headers=world.inspector.headers,
    ).json()
    assert [item["child_id"] for item in page["items"]] == ["C1", "C3", "C4"]
    assert page["items"][0]["data"]["gender"] == "F"
    older = client.get(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        params={"version": 1},
        headers=world.inspector.headers,
    ).json()
    assert [item["child_id"] for item in older["items"]] == ["C1", "C2"]
    versions = client.get(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need/versions",
        headers=world.agency.headers,
    ).json()
    assert [v["number"] for v in versions] == [2, 1]


def test_stale_if_match_is_412(client: TestClient, world: World) -> None:
    push_json(client, world, "children-in-need", [cin_row("C1")])
    push_json(client, world, "children-in-need", [cin_row("C1")])
    stale = client.put(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        json={"rows": [cin_row("C9")]},
        headers={**world.agency.headers, "If-Match": '"1"'},
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_mismatch"


def test_invalid_push_stores_nothing_and_reports_each_problem(
    client: TestClient, world: World, db: Reader
) -> None:
    rows = [cin_row("C1"), cin_row("C1"), cin_row("C2", gender="purple")]
    response = push_json(client, world, "children-in-need", rows)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_list"
    codes = {(p["row"], p["field"]) for p in body["errors"]}
    assert (3, "gender") in codes
    assert any(p["field"] == "child_id" for p in body["errors"])
    assert body["report"]["stored"] is False
    assert db.all(select(ListBlock)) == []
    missing = client.get(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        headers=world.inspector.headers,
    )
    assert missing.status_code == 404
    assert missing.json()["detail"].startswith(
        "Nothing has been pushed to 'children-in-need' in this inspection yet"
    )


def test_dry_run_validates_without_storing(client: TestClient, world: World, db: Reader) -> None:
    response = push_json(client, world, "children-in-need", [cin_row("C1")], dry_run="true")
    assert response.status_code == 200
    assert response.json()["version"] is None
    assert response.json()["report"] == {
        "accepted": True,
        "stored": False,
        "rows": 1,
        "errors": 0,
        "warnings": response.json()["report"]["warnings"],
        "problems": response.json()["report"]["problems"],
        "problems_total": response.json()["report"]["problems_total"],
        "sheet": None,  # JSON has no sheets
    }
    assert db.all(select(ListBlock)) == []


def test_warnings_are_kept_and_do_not_block(client: TestClient, world: World) -> None:
    # Filled in as for a 15-year-old, but the child is 16: a warning, not an error.
    row = cin_row("C16", age=15) | {"age_years": 16, "date_of_birth": birth_date(16).isoformat()}
    response = push_json(client, world, "children-in-need", [row])
    assert response.status_code == 201, response.json()
    assert response.json()["version"]["warning_count"] >= 1
    versions = client.get(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need/versions",
        headers=world.lead.headers,
    ).json()
    assert any(w["field"] == "mh_concern" for w in versions[0]["warnings"])


def test_a_16_year_old_with_a_concern_is_accepted_with_a_warning(
    client: TestClient, world: World
) -> None:
    # The flag is given, the eight follow-ups are not: they are asked only for ages 10 to 15.
    row = cin_row("C16", age=16) | {"mh_concern": "Y", "mh_support_need": "N"}
    response = push_json(client, world, "children-in-need", [row])
    assert response.status_code == 201, response.json()
    warnings = client.get(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need/versions",
        headers=world.lead.headers,
    ).json()[0]["warnings"]
    assert {w["code"] for w in warnings} == {"only_for_ages"}


def test_only_the_responsible_organisations_push(client: TestClient, factory: Factory) -> None:
    world = factory.world("domestic-abuse", datetime(2030, 3, 5, 9, 0, tzinfo=LONDON))
    police = factory.actor_in(world, "police")
    response = client.put(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        json={"rows": []},
        headers=police.headers,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_responsible_for_list"


def test_unknown_list_and_unsupported_format(client: TestClient, world: World) -> None:
    assert push_json(client, world, "shortlist-information", []).status_code == 404
    response = client.put(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        content=b"<rows/>",
        headers={**world.agency.headers, "Content-Type": "application/xml"},
    )
    assert response.status_code == 415


def test_pushes_meet_the_lists_milestone_late_when_late(
    client: TestClient, factory: Factory
) -> None:
    world = factory.world("mental-health", datetime(2026, 3, 2, 9, 0, tzinfo=LONDON))
    for key in ("children-in-need", "child-protection", "looked-after"):
        response = push_json(client, world, key, [ROWS[key]])
        assert response.status_code == 201, response.json()
        assert response.json()["version"]["late"] is True
    schedule = client.get(
        f"/v1/inspections/{world.inspection_id}/schedule", headers=world.agency.headers
    ).json()
    lists = next(m for m in schedule["milestones"] if m["key"] == "lists-cin-cp-cla")
    assert lists["state"] == "late"
    assert lists["met_at"] is not None


def test_reads_are_filtered_sorted_and_audited(
    client: TestClient, world: World, db: Reader
) -> None:
    rows = [cin_row("C1", gender="M"), cin_row("C2"), cin_row("C3", gender="M")]
    push_json(client, world, "children-in-need", rows)
    url = f"/v1/inspections/{world.inspection_id}/lists/children-in-need"
    page = client.get(
        url,
        params={"gender": "M", "sort": "child_id", "descending": "true", "limit": 1},
        headers=world.inspector.headers,
    ).json()
    assert [item["child_id"] for item in page["items"]] == ["C3"]
    assert page["total"] == 2
    assert page["next_offset"] == 1
    bad = client.get(url, params={"colour": "red"}, headers=world.inspector.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.colour"
    reads = db.chained(select(AuditEvent).where(AuditEvent.action == "list.read"))
    assert reads[-1].client_id == world.inspector.client_id
    assert reads[-1].detail["rows"] == 1


def test_reading_a_versions_report_is_audited(client: TestClient, world: World, db: Reader) -> None:
    # Its warnings quote the cells they are about: a read of child data like a page.
    push_json(client, world, "children-in-need", [cin_row("C1")])
    url = f"/v1/inspections/{world.inspection_id}/lists/children-in-need/versions/1"
    supplier = {"supplier": str(world.agency.organisation_id)}
    assert client.get(url, params=supplier, headers=world.inspector.headers).status_code == 200
    assert client.get(url, headers=world.agency.headers).status_code == 200
    reads = db.chained(select(AuditEvent).where(AuditEvent.action == "list.version_read"))
    assert [read.client_id for read in reads] == [
        world.inspector.client_id,
        world.agency.client_id,
    ]
    assert reads[0].detail["versions"] == [{**supplier, "version": 1}]
    assert reads[0].inspection_id == world.inspection_id


def test_exports_neutralise_formulas(client: TestClient, world: World) -> None:
    push_json(client, world, "children-in-need", [cin_row("C1", allocated_worker="=HYPERLINK(1)")])
    url = f"/v1/inspections/{world.inspection_id}/lists/children-in-need"
    exported = client.get(url, headers={**world.inspector.headers, "Accept": "text/csv"})
    assert exported.status_code == 200
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0][0] == "Child Unique ID"
    worker = table[0].index("Allocated Worker")
    assert table[1][worker] == "'=HYPERLINK(1)"
    workbook = load_workbook(
        io.BytesIO(client.get(url, headers={**world.inspector.headers, "Accept": XLSX}).content)
    )
    sheet = workbook.worksheets[0]
    cell = sheet.cell(row=2, column=worker + 1)
    assert cell.value == "'=HYPERLINK(1)"
    assert cell.data_type == "s"


def test_template_round_trip(client: TestClient, world: World) -> None:
    url = f"/v1/inspections/{world.inspection_id}/lists/children-in-need"
    template = client.get(url + "/template.xlsx", headers=world.agency.headers)
    assert template.status_code == 200
    workbook: Workbook = load_workbook(io.BytesIO(template.content))
    sheet = workbook.worksheets[0]
    assert sheet.title == "List_6"
    assert sheet.freeze_panes == "A3"
    headings = [cell.value for cell in sheet[2]]
    row = cin_row("T1")
    by_heading = {
        "Child Unique ID": "T1",
        "Gender": "b) Female",
        "Ethnicity": "a) WBRI",
        "Primary Need Code": "N1 - Abuse or neglect",
        "Case status": "c) Child in need plan",
        "Does the Child have a Disability": "b) No",
        "Allocated Team": "North",
        "Allocated Worker": "A. Worker",
        "Age of Child (Years)": row["age_years"],
        "Date of Birth": datetime.fromisoformat(row["date_of_birth"]),
        "Is there a concern about the child's mental health? (Y/N)": "N",
        "Have they been identified as needing support as a result of their mental health? (Y/N)": (
            "n"
        ),
    }
    for column, heading in enumerate(headings, start=1):
        if heading in by_heading:
            sheet.cell(row=3, column=column, value=by_heading[heading])
    filled = io.BytesIO()
    workbook.save(filled)
    pushed = client.put(
        url, content=filled.getvalue(), headers={**world.agency.headers, "Content-Type": XLSX}
    )
    assert pushed.status_code == 201, pushed.json()
    page = client.get(url, headers=world.inspector.headers).json()
    assert page["items"][0]["data"]["primary_need"] == "N1"
    assert page["items"][0]["row_number"] == 3


def test_child_view_for_inspectors_and_selected_children_only_for_agencies(
    client: TestClient, world: World, factory: Factory
) -> None:
    push_json(client, world, "children-in-need", [cin_row("C1"), cin_row("C2")])
    url = f"/v1/inspections/{world.inspection_id}/children/C1"
    seen = client.get(url, headers=world.inspector.headers)
    assert seen.status_code == 200
    assert [entry["list_key"] for entry in seen.json()["lists"]] == ["children-in-need"]
    assert client.get(url, headers=world.agency.headers).status_code == 404
    factory.selection(world.inspection_id, "tracked", ["C1"])
    assert client.get(url, headers=world.agency.headers).json()["selections"] == ["tracked"]
    assert client.get(url, headers=world.other_area_agency.headers).status_code == 404
    assert client.get(url, headers=world.operator.headers).status_code == 403
