"""Filtered and sorted pages of a list compiled by several suppliers, each version stored in
several blocks: which rows, in which order, whole, with their suppliers, and the totals. The
page is chosen on a few decoded columns and its rows are then read whole, so these pin that
the two agree (and that older versions and fields some suppliers lack still read right)."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.child_lists import pages
from app.child_lists.blocks import DECODED, ROW
from app.child_lists.kept import DecodedBlocks
from app.child_lists.parsing import encoded
from app.organisations.kinds import OrganisationKind
from tests.factories import Factory, World
from tests.list_rows import child_ids, list_page

LIST = "children-in-need"
# Pages long enough for every row, unless a test asks for less.
_page = partial(list_page, limit=100)


def _row(child: str, gender: str, age: int | None, born: date, team: str | None = "") -> Any:
    row = {"child_id": child, "gender": gender, "age_years": age, "date_of_birth": born}
    return row if team == "" else row | {"allocated_team": team}


# Three suppliers, read in the order of their names: "a health", the council
# ("local_authority ..."), "z police". The police pushed no allocated_team column at all.
HEALTH = [
    _row("H1", "F", 12, date(2013, 5, 1), "East"),
    _row("H2", "M", 9, date(2016, 2, 1), "West"),
    _row("H3", "F", 12, date(2013, 1, 9), "North"),
]
COUNCIL_BEFORE = [
    _row("OLD1", "F", 5, date(2020, 1, 1), "North"),
    _row("OLD2", "F", 12, date(2013, 3, 3), "West"),
]
COUNCIL = [
    _row("C1", "F", 14, date(2011, 7, 7), "North"),
    _row("C2", "F", 12, date(2013, 9, 9), "West"),
    _row("C3", "M", 12, date(2013, 2, 2), "East"),
    _row("C4", "F", 9, date(2016, 6, 6), "North"),
    _row("C5", "F", None, date(2010, 1, 1), None),
]
POLICE = [_row("P1", "F", 12, date(2013, 4, 4)), _row("P2", "F", 14, date(2011, 1, 1))]


@dataclass(frozen=True)
class Suppliers:
    health: uuid.UUID  # organisations
    council_version: uuid.UUID  # the council's current version
    police: uuid.UUID


@pytest.fixture
def suppliers(factory: Factory, world: World, monkeypatch: pytest.MonkeyPatch) -> Suppliers:
    monkeypatch.setattr(encoded, "BLOCK_ROWS", 2)  # every version spans several blocks
    health = factory.organisation(OrganisationKind.HEALTH, "a health")
    police = factory.organisation(OrganisationKind.POLICE, "z police")
    factory.stored_list(world.inspection_id, LIST, HEALTH, health)
    factory.stored_list(world.inspection_id, LIST, COUNCIL_BEFORE)
    council = factory.stored_list(world.inspection_id, LIST, COUNCIL)
    factory.stored_list(world.inspection_id, LIST, POLICE, police)
    return Suppliers(health, council, police)


def test_a_filter_sorted_up_orders_by_value_then_supplier_then_file_order(
    client: TestClient, world: World, suppliers: Suppliers
) -> None:
    girls = _page(client, world, gender="F", sort="age_years")
    # 9; then the 12s by supplier and row; 14s; the missing age last.
    assert child_ids(girls) == ["C4", "H1", "H3", "C2", "P1", "C1", "P2", "C5"]
    assert girls["total"] == 8
    # Whole rows, from the blocks the page's rows are in, each with its own supplier.
    read = [
        (item["child_id"], item["data"]["age_years"], item["data"].get("allocated_team"))
        for item in girls["items"]
    ]
    assert read[:4] == [
        ("C4", 9, "North"),
        ("H1", 12, "East"),
        ("H3", 12, "North"),
        ("C2", 12, "West"),
    ]
    assert read[4] == ("P1", 12, None)
    assert "allocated_team" not in girls["items"][4]["data"]  # the police never pushed it
    assert girls["items"][3]["data"]["date_of_birth"] == "2013-09-09"
    whose = [item["supplier"]["organisation_id"] for item in girls["items"]]
    council = str(world.agency.organisation_id)
    health, police = str(suppliers.health), str(suppliers.police)
    assert whose == [council, health, health, council, police, council, police, council]
    middle = _page(client, world, gender="F", sort="age_years", limit=3, offset=2)
    assert child_ids(middle) == ["H3", "C2", "P1"]
    assert middle["total"] == 8


def test_sorted_down_missing_values_come_first_and_ties_keep_file_order(
    client: TestClient, world: World, suppliers: Suppliers
) -> None:
    everyone = _page(client, world, sort="age_years", descending="true")
    assert child_ids(everyone) == ["C5", "C1", "P2", "H1", "H3", "C2", "C3", "P1", "H2", "C4"]
    assert everyone["total"] == 10
    for offset in range(11):
        page = _page(client, world, sort="age_years", descending="true", limit=3, offset=offset)
        assert child_ids(page) == child_ids(everyone)[offset : offset + 3]
    by_birth = _page(client, world, sort="date_of_birth", date_of_birth_to="2013-05-01")
    assert child_ids(by_birth) == ["C5", "P2", "C1", "H3", "C3", "P1", "H1"]


def test_a_field_one_supplier_lacks_matches_none_of_its_rows(
    client: TestClient, world: World, suppliers: Suppliers
) -> None:
    north = _page(client, world, allocated_team="North", sort="child_id", descending="true")
    assert child_ids(north) == ["H3", "C4", "C1"]
    by_team = _page(client, world, sort="allocated_team")
    # Missing teams (the police's and C5's) last, in supplier and file order.
    assert child_ids(by_team)[-3:] == ["C5", "P1", "P2"]
    assert child_ids(by_team)[:2] == ["H1", "C3"]


def test_an_older_version_and_one_supplier_are_filtered_on_their_own_rows(
    client: TestClient, world: World, suppliers: Suppliers
) -> None:
    council = str(world.agency.organisation_id)
    older = _page(client, world, version=1, supplier=council, gender="F", sort="age_years")
    assert (child_ids(older), older["total"]) == (["OLD1", "OLD2"], 2)
    police = _page(
        client, world, supplier=str(suppliers.police), sort="age_years", descending="true"
    )
    assert (child_ids(police), police["total"]) == (["P2", "P1"], 2)


def test_a_filtered_read_keeps_only_its_columns_and_page_within_its_share(
    client: TestClient, world: World, suppliers: Suppliers, monkeypatch: pytest.MonkeyPatch
) -> None:
    council = suppliers.council_version
    assert child_ids(_page(client, world, gender="M", sort="age_years")) == [
        "H2",
        "C3",
    ]
    kept = DECODED.get(council, None, (ROW, "age_years", "gender"))
    assert kept is not None
    assert kept.height == len(COUNCIL)
    assert DECODED.get(council, 0) is None  # no boy in the council's first block
    assert DECODED.get(council, 1) is not None  # C3's
    # The same read again, kept from nothing and allowed to keep nothing, reads the same.
    fresh = DecodedBlocks(DECODED.budget)
    monkeypatch.setattr(pages, "DECODED", fresh)
    monkeypatch.setattr(pages, "SHARE", 0)
    assert child_ids(_page(client, world, gender="M", sort="age_years")) == [
        "H2",
        "C3",
    ]
    assert fresh.size == 0


def test_an_export_is_every_supplier_in_turn_in_file_order(
    client: TestClient, world: World, suppliers: Suppliers
) -> None:
    exported = client.get(
        f"/v1/inspections/{world.inspection_id}/lists/{LIST}",
        headers={**world.lead.headers, "Accept": "text/csv"},
    )
    assert exported.status_code == 200, exported.text
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [row[0] for row in table[1:]] == [
        *(row["child_id"] for row in HEALTH),
        *(row["child_id"] for row in COUNCIL),
        *(row["child_id"] for row in POLICE),
    ]
    assert {row[-1] for row in table[1:4]} == {"a health"}
    assert {row[-1] for row in table[-2:]} == {"z police"}
