"""Lists compiled jointly: each responsible organisation pushes its own contribution, inspectors
read them merged with the supplier of each row, and agencies see only what they supplied."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.auth.roles import Role
from app.organisations.kinds import OrganisationKind
from tests.factories import Actor, Factory, World
from tests.list_rows import birth_date, cin_row, cla_row, cp_row

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CIN = "children-in-need"


@dataclass(frozen=True)
class Partners:
    """The world's council, with a health agency and a police force taking part."""

    client: TestClient
    world: World
    council: Actor
    health: Actor
    police: Actor

    @property
    def base(self) -> str:
        return f"/v1/inspections/{self.world.inspection_id}"

    def push(
        self, actor: Actor, rows: list[dict[str, Any]], list_key: str = CIN, **headers: str
    ) -> Any:
        return self.client.put(
            f"{self.base}/lists/{list_key}",
            json={"rows": rows},
            headers={**actor.headers, **headers},
        )


def _partner(factory: Factory, world: World, kind: OrganisationKind, name: str) -> Actor:
    organisation = factory.organisation(kind, name)
    factory.add_participant(world.inspection_id, organisation)
    return factory.actor(kind, [Role.AGENCY], organisation)


@pytest.fixture
def partners(client: TestClient, factory: Factory, world: World) -> Partners:
    health = _partner(factory, world, OrganisationKind.HEALTH, "Testshire Health")
    police = _partner(factory, world, OrganisationKind.POLICE, "Testshire Police")
    return Partners(client, world, world.agency, health, police)


def _page(client: TestClient, partners: Partners, **params: Any) -> dict[str, Any]:
    answer = client.get(
        f"{partners.base}/lists/{CIN}", params=params, headers=partners.world.inspector.headers
    )
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def _suppliers(page: dict[str, Any]) -> list[tuple[str, str]]:
    return [(item["child_id"], item["supplier"]["organisation_id"]) for item in page["items"]]


COUNCIL_ROWS = [cin_row(f"C{n}") for n in range(1, 9)]


def test_a_push_by_health_replaces_only_its_own_contribution(
    client: TestClient, partners: Partners
) -> None:
    # The reproduction: a one-row push by health used to become the whole current list,
    # hiding the local authority's eight rows.
    assert partners.push(partners.council, COUNCIL_ROWS).status_code == 201
    pushed = partners.push(partners.health, [cin_row("H1")])
    assert pushed.status_code == 201, pushed.json()
    assert pushed.json()["version"]["number"] == 1  # the first of health's contribution
    assert pushed.json()["version"]["organisation_name"] == "Testshire Health"
    page = _page(client, partners, limit=100)
    assert page["total"] == 9
    assert sorted(child for child, _ in _suppliers(page)) == sorted(
        ["H1", *(row["child_id"] for row in COUNCIL_ROWS)]
    )
    # The council's next push replaces its own rows, and leaves health's.
    again = partners.push(partners.council, [cin_row("C1"), cin_row("C9")])
    assert again.json()["version"]["number"] == 2
    page = _page(client, partners)
    council, health = str(partners.council.organisation_id), str(partners.health.organisation_id)
    assert sorted(_suppliers(page)) == [("C1", council), ("C9", council), ("H1", health)]


def test_two_suppliers_naming_a_child_give_two_rows_each_with_its_supplier(
    client: TestClient, partners: Partners
) -> None:
    partners.push(partners.council, [cin_row("C1"), cin_row("C2")])
    partners.push(partners.health, [cin_row("C1", allocated_team="CAMHS East")])
    page = _page(client, partners)
    named = [item for item in page["items"] if item["child_id"] == "C1"]
    assert len(named) == 2
    by_name = {item["supplier"]["organisation_name"]: item for item in named}
    assert by_name["Testshire Health"]["data"]["allocated_team"] == "CAMHS East"
    assert by_name["Testshire Health"]["supplier"] == {
        "organisation_id": str(partners.health.organisation_id),
        "organisation_name": "Testshire Health",
        "version": 1,
    }
    [council] = [
        item for item in named if item["supplier"]["organisation_name"] != "Testshire Health"
    ]
    assert council["data"]["allocated_team"] == "North"
    assert council["supplier"]["organisation_id"] == str(partners.council.organisation_id)
    contributions = {c["organisation_id"]: c["number"] for c in page["contributions"]}
    assert contributions == {
        str(partners.council.organisation_id): 1,
        str(partners.health.organisation_id): 1,
    }


def test_supplier_filter_and_stable_paging_across_suppliers(
    client: TestClient, partners: Partners
) -> None:
    partners.push(
        partners.council, [cin_row(f"C{n}", gender="M" if n % 2 else "F") for n in (1, 2, 3)]
    )
    partners.push(partners.health, [cin_row("H1", gender="M"), cin_row("H2")])
    health = str(partners.health.organisation_id)
    only_health = _page(client, partners, supplier=health)
    assert _suppliers(only_health) == [("H1", health), ("H2", health)]
    assert only_health["total"] == 2
    assert [c["organisation_id"] for c in only_health["contributions"]] == [health]
    boys = _page(client, partners, supplier=health, gender="M")
    assert [item["child_id"] for item in boys["items"]] == ["H1"]
    nobody = _page(client, partners, supplier=str(partners.police.organisation_id))
    assert (nobody["items"], nobody["total"]) == ([], 0)
    # Every page of the merged list, in any page size, is a slice of the same order.
    whole = [item["child_id"] for item in _page(client, partners, limit=10)["items"]]
    assert sorted(whole) == ["C1", "C2", "C3", "H1", "H2"]
    for limit in (1, 2, 3, 4):
        for offset in range(6):
            page = _page(client, partners, limit=limit, offset=offset)
            assert [i["child_id"] for i in page["items"]] == whole[offset : offset + limit]
            assert page["total"] == 5
    ordered = _page(client, partners, sort="child_id", descending="true", limit=3, offset=1)
    assert [item["child_id"] for item in ordered["items"]] == ["H1", "C3", "C2"]
    assert _page(client, partners, gender="M")["total"] == 3


def test_an_older_version_is_read_by_number_and_supplier(
    client: TestClient, partners: Partners
) -> None:
    partners.push(partners.council, [cin_row("C1")])
    partners.push(partners.council, [cin_row("C2")])
    partners.push(partners.health, [cin_row("H1")])
    url = f"{partners.base}/lists/{CIN}"
    headers = partners.world.inspector.headers
    ambiguous = client.get(url, params={"version": 1}, headers=headers)
    assert ambiguous.status_code == 422
    assert ambiguous.json()["code"] == "supplier_required"
    council = str(partners.council.organisation_id)
    older = _page(client, partners, version=1, supplier=council)
    assert [item["child_id"] for item in older["items"]] == ["C1"]
    assert [item["child_id"] for item in _page(client, partners, version=2)["items"]] == ["C2"]
    missing = client.get(url, params={"version": 3}, headers=headers)
    assert missing.status_code == 404


def test_exports_name_each_rows_supplier(client: TestClient, partners: Partners) -> None:
    partners.push(partners.council, [cin_row("C1"), cin_row("C2")])
    partners.push(partners.health, [cin_row("C1")])
    url = f"{partners.base}/lists/{CIN}"
    headers = partners.world.inspector.headers
    exported = client.get(url, headers={**headers, "Accept": "text/csv"})
    assert exported.status_code == 200
    assert f"filename*=UTF-8''{CIN}.csv" in exported.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0][0] == "Child Unique ID"
    assert table[0][-1] == "Supplier"
    versions = client.get(f"{partners.base}/lists/{CIN}/versions", headers=headers).json()
    council_name = versions[-1]["organisation_name"]
    assert council_name.startswith("local_authority")
    rows = sorted((row[0], row[-1]) for row in table[1:])
    assert rows == sorted([("C1", council_name), ("C2", council_name), ("C1", "Testshire Health")])
    health = str(partners.health.organisation_id)
    workbook = load_workbook(
        io.BytesIO(
            client.get(
                url, params={"supplier": health}, headers={**headers, "Accept": XLSX}
            ).content
        )
    )
    sheet = [[cell.value for cell in row] for row in workbook.worksheets[0].iter_rows()]
    assert sheet[0][-1] == "Supplier"
    assert [(row[0], row[-1]) for row in sheet[1:]] == [("C1", "Testshire Health")]


def test_if_match_is_per_contribution(client: TestClient, partners: Partners) -> None:
    partners.push(partners.council, [cin_row("C1")])
    partners.push(partners.council, [cin_row("C1")], **{"If-Match": '"1"'})
    # Health's contribution has no version yet, whatever the council's is.
    first = partners.push(partners.health, [cin_row("H1")], **{"If-Match": '"0"'})
    assert first.status_code == 201, first.json()
    stale = partners.push(partners.health, [cin_row("H2")], **{"If-Match": '"2"'})
    assert stale.status_code == 412
    problem = stale.json()
    assert problem["code"] == "version_mismatch"
    assert problem["current_version"] == 1
    assert problem["supplier_organisation_id"] == str(partners.health.organisation_id)
    assert "Testshire Health's contribution" in problem["detail"]
    assert "is 1, not 2" in problem["detail"]
    council = partners.push(partners.council, [cin_row("C3")], **{"If-Match": '"2"'})
    assert council.status_code == 201
    assert council.json()["version"]["number"] == 3
    assert council.headers["ETag"] == '"3"'


def test_agencies_see_of_a_child_only_their_own_rows(
    client: TestClient, partners: Partners, factory: Factory
) -> None:
    # The reproduction: police reading a selected child got the local authority's full row.
    partners.push(partners.council, [cin_row("C1"), cin_row("C2")])
    partners.push(partners.health, [cin_row("C1", allocated_team="CAMHS East")])
    factory.selection(partners.world.inspection_id, "tracked", ["C1"])
    url = f"{partners.base}/children/C1"
    police = client.get(url, headers=partners.police.headers)
    assert police.status_code == 200
    assert police.json() == {"child_id": "C1", "selections": ["tracked"], "lists": []}
    health = client.get(url, headers=partners.health.headers).json()
    assert health["selections"] == ["tracked"]
    [rows] = [entry["rows"] for entry in health["lists"]]
    assert [row["supplier"]["organisation_id"] for row in rows] == [
        str(partners.health.organisation_id)
    ]
    assert rows[0]["data"]["allocated_team"] == "CAMHS East"
    council = client.get(url, headers=partners.council.headers).json()
    [rows] = [entry["rows"] for entry in council["lists"]]
    assert [row["data"]["allocated_team"] for row in rows] == ["North"]
    inspector = client.get(url, headers=partners.world.inspector.headers).json()
    [rows] = [entry["rows"] for entry in inspector["lists"]]
    assert len(rows) == 2
    # An unselected child is still no agency's business, even one it supplied.
    assert (
        client.get(f"{partners.base}/children/C2", headers=partners.council.headers).status_code
        == 404
    )


def test_versions_show_an_agency_only_its_own_pushes(
    client: TestClient, partners: Partners
) -> None:
    # The reproduction: health saw the council's warnings, which quote an unselected child.
    flagged = cin_row("C16", age=15) | {
        "age_years": 16,
        "date_of_birth": birth_date(16).isoformat(),
    }
    council_push = partners.push(partners.council, [flagged, cin_row("C2")])
    assert council_push.json()["version"]["warning_count"] >= 1
    partners.push(partners.council, [cin_row("C2")])
    partners.push(partners.health, [cin_row("H1")])
    url = f"{partners.base}/lists/{CIN}/versions"
    health_id = str(partners.health.organisation_id)
    seen = client.get(url, headers=partners.health.headers).json()
    assert [(v["organisation_id"], v["number"]) for v in seen] == [(health_id, 1)]
    assert all(v["warnings"] == [] for v in seen)
    assert "C16" not in client.get(url, headers=partners.health.headers).text
    council_id = str(partners.council.organisation_id)
    asked = client.get(url, params={"supplier": council_id}, headers=partners.health.headers)
    assert asked.status_code == 404
    everyone = client.get(url, headers=partners.world.inspector.headers).json()
    assert [(v["organisation_id"], v["number"]) for v in everyone] == [
        (health_id, 1),
        (council_id, 2),
        (council_id, 1),
    ]
    assert everyone[0]["organisation_name"] == "Testshire Health"
    only_council = client.get(
        url, params={"supplier": council_id}, headers=partners.world.inspector.headers
    ).json()
    assert [v["number"] for v in only_council] == [2, 1]
    # By number: an agency's number is of its own contribution; another's is not found.
    assert client.get(f"{url}/1", headers=partners.health.headers).json()["organisation_id"] == (
        health_id
    )
    assert client.get(f"{url}/2", headers=partners.health.headers).status_code == 404
    assert (
        client.get(
            f"{url}/1", params={"supplier": council_id}, headers=partners.health.headers
        ).status_code
        == 404
    )
    first = client.get(
        f"{url}/1", params={"supplier": council_id}, headers=partners.world.inspector.headers
    ).json()
    assert first["warning_count"] >= 1
    assert first["warnings"]
    ambiguous = client.get(f"{url}/1", headers=partners.world.inspector.headers)
    assert ambiguous.status_code == 422


def test_an_organisation_not_responsible_for_a_list_is_still_refused(
    client: TestClient, partners: Partners
) -> None:
    refused = partners.push(partners.police, [cin_row("P1")])
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_responsible_for_list"
    versions = client.get(f"{partners.base}/lists/{CIN}/versions", headers=partners.police.headers)
    assert versions.status_code == 403
    one = client.get(f"{partners.base}/lists/{CIN}/versions/1", headers=partners.police.headers)
    assert one.status_code == 403


def test_selections_check_children_against_every_contribution(
    client: TestClient, partners: Partners
) -> None:
    council = [*(cin_row(f"C{n}") for n in range(1, 4)), cin_row("X1", concern="N")]
    partners.push(partners.council, council)
    # Only health's row shows the concern that brings X1 into scope, and only health names H1.
    partners.push(partners.health, [cin_row("X1"), cin_row("H1")])
    chosen = ["C1", "C2", "C3", "X1", "H1"]
    made = client.put(
        f"{partners.base}/selections/tracked",
        json={"child_ids": chosen},
        headers=partners.world.lead.headers,
    )
    assert made.status_code == 200, made.json()


def _milestone(client: TestClient, partners: Partners, key: str) -> dict[str, Any]:
    schedule = client.get(f"{partners.base}/schedule", headers=partners.council.headers).json()
    found: dict[str, Any] = next(m for m in schedule["milestones"] if m["key"] == key)
    return found


@pytest.mark.world(notification_at=datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London")))
def test_a_joint_lists_milestone_waits_for_every_responsible_participant(
    client: TestClient, partners: Partners
) -> None:
    rows = {
        "children-in-need": cin_row("C1"),
        "child-protection": cp_row("P1"),
        "looked-after": cla_row("L1"),
    }
    for key, row in rows.items():
        assert partners.push(partners.council, [row], list_key=key).status_code == 201
    # Health takes part and is named for lists 6-8; police is not, so it is not waited for.
    assert _milestone(client, partners, "lists-cin-cp-cla")["state"] == "overdue"
    for key in rows:
        assert partners.push(partners.health, [], list_key=key).status_code == 201
    met = _milestone(client, partners, "lists-cin-cp-cla")
    assert met["state"] == "late"
    assert met["met_at"] is not None
