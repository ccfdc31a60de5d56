"""Lists are stored in blocks: pages, filters and sorts that cross block boundaries."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.child_lists import blocks
from app.child_lists.models import ListVersion
from app.child_lists.parsing import encoded
from app.core.database import session_scope
from tests.factories import Factory, World
from tests.list_rows import child_ids, list_page

LIST = "children-in-need"
ROWS = [{"child_id": f"C{n:02d}", "gender": "F" if n % 2 else "M"} for n in range(1, 11)]


def test_every_page_is_right_across_block_boundaries(
    client: TestClient, world: World, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encoded, "BLOCK_ROWS", 4)  # ten rows: blocks of 4, 4 and 2
    factory.stored_list(world.inspection_id, LIST, ROWS)
    expected = [row["child_id"] for row in ROWS]
    for limit in (1, 3, 4, 5, 10):
        for offset in range(0, 12):
            page = list_page(client, world, limit=limit, offset=offset)
            assert child_ids(page) == expected[offset : offset + limit], (limit, offset)
            assert page["total"] == 10


def test_versions_written_in_other_block_sizes_still_read_right(
    client: TestClient, world: World, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encoded, "BLOCK_ROWS", 4)
    factory.stored_list(world.inspection_id, LIST, ROWS)
    monkeypatch.setattr(encoded, "BLOCK_ROWS", 3)  # as if the size changed between releases
    factory.stored_list(world.inspection_id, LIST, ROWS[:7])
    assert child_ids(list_page(client, world, version=1, limit=3, offset=5)) == [
        "C06",
        "C07",
        "C08",
    ]
    assert child_ids(list_page(client, world, version=2, limit=3, offset=5)) == ["C06", "C07"]


def test_filters_and_sorts_see_every_block(
    client: TestClient, world: World, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encoded, "BLOCK_ROWS", 3)
    factory.stored_list(world.inspection_id, LIST, ROWS)
    girls = list_page(client, world, gender="F", limit=2, offset=1)
    assert child_ids(girls) == ["C03", "C05"]
    assert girls["total"] == 5
    backwards = list_page(client, world, sort="child_id", descending="true", limit=4, offset=0)
    assert child_ids(backwards) == ["C10", "C09", "C08", "C07"]


def test_child_lookups_take_ids_literally(factory: Factory, world: World) -> None:
    # LIKE wildcards, the escape character or another case must not match other children.
    ids = ["C_1", "CX1", "C%2", "C\\3", "C13", "CY"]
    version_id = factory.stored_list(world.inspection_id, LIST, [{"child_id": c} for c in ids])
    with session_scope(factory.state.session_factory) as session:
        version = session.get(ListVersion, version_id)
        assert version is not None
        for child in ids:
            found = blocks.rows_of(session, [version], [child])
            naming = session.execute(blocks.versions_naming_child(world.inspection_id, child))
            assert [row.child_id for row in found] == [child]
            assert list(naming.scalars()) == [version_id]
        for pattern in ("C%", "C_", "C\\", "c13", "cy"):
            assert blocks.rows_of(session, [version], [pattern]) == []
            naming = session.execute(blocks.versions_naming_child(world.inspection_id, pattern))
            assert list(naming.scalars()) == [], pattern
