"""Decoded blocks are kept (versions never change) within a budget, least recently read first
out; pages read from them are the pages read from the database."""

from __future__ import annotations

import uuid
from typing import Any

import polars as pl
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select

from app.child_lists.blocks import DECODED, ENCODED, LAYOUTS
from app.child_lists.kept import BlockSpan, Budgeted, DecodedBlocks
from app.child_lists.models import ListVersion
from app.retention.service import purge_inspection
from tests.conftest import Reader
from tests.factories import World
from tests.list_rows import cin_row, push_json


def _frame(rows: int) -> pl.DataFrame:
    return pl.DataFrame({"child": [f"C{n}" for n in range(rows)]})


def test_the_least_recently_read_block_goes_first_once_over_budget() -> None:
    size = int(_frame(100).estimated_size())
    cache = DecodedBlocks(budget=2 * size)
    version = uuid.uuid4()
    cache.put(version, 0, _frame(100))
    cache.put(version, 1, _frame(100))
    assert cache.get(version, 0) is not None  # block 1 is now the least recently read
    cache.put(version, 2, _frame(100))
    assert cache.get(version, 1) is None
    assert cache.get(version, 0) is not None
    assert cache.get(version, 2) is not None
    assert cache.size <= cache.budget
    cache.put(version, 3, _frame(10_000))  # larger than the whole budget: not kept
    assert cache.get(version, 3) is None
    assert cache.get(version, 2) is not None


def test_a_page_read_again_comes_from_the_decoded_block_and_is_the_same(
    client: TestClient, world: World, db: Reader
) -> None:
    rows = [cin_row(f"C{n}") for n in range(30)]
    assert push_json(client, world, "children-in-need", rows).status_code == 201
    (version,) = db.all(select(ListVersion))
    url = f"/v1/inspections/{world.inspection_id}/lists/children-in-need"
    first = client.get(url, params={"limit": 10, "offset": 5}, headers=world.lead.headers)
    assert DECODED.get(version.id, 0) is not None
    kept = ENCODED.get((version.id, 0))
    assert kept is not None
    assert [row.child_id for row in kept] == [f"C{n}" for n in range(30)]
    again = client.get(url, params={"limit": 10, "offset": 5}, headers=world.lead.headers)
    assert again.json()["items"] == first.json()["items"]
    assert [item["child_id"] for item in again.json()["items"]] == [f"C{n}" for n in range(5, 15)]


def test_block_layouts_keep_the_most_recently_read_versions() -> None:
    layouts: Budgeted[uuid.UUID, tuple[BlockSpan, ...]] = Budgeted(2, lambda _layout: 1)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    layouts.put(first, (BlockSpan(0, 0, 10),))
    layouts.put(second, (BlockSpan(0, 0, 5), BlockSpan(1, 5, 5)))
    assert layouts.get(first) == (BlockSpan(0, 0, 10),)  # second is now the oldest read
    layouts.put(third, ())
    assert layouts.get(second) is None
    assert layouts.get(first) is not None
    assert layouts.get(third) == ()


def test_a_page_read_again_asks_the_database_for_no_block(
    client: TestClient, world: World, db: Reader, engine: Engine
) -> None:
    rows = [cin_row(f"C{n}") for n in range(30)]
    assert push_json(client, world, "children-in-need", rows).status_code == 201
    url = f"/v1/inspections/{world.inspection_id}/lists/children-in-need"
    params = {"limit": 10, "offset": 20}
    first = client.get(url, params=params, headers=world.lead.headers)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        again = client.get(url, params=params, headers=world.lead.headers)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert again.json()["items"] == first.json()["items"]
    assert [item["child_id"] for item in again.json()["items"]] == [f"C{n}" for n in range(20, 30)]
    assert statements
    assert not [s for s in statements if "list_blocks" in s]


def test_a_purge_forgets_what_this_process_keeps_of_the_purged_lists(
    client: TestClient, world: World, db: Reader, app: FastAPI
) -> None:
    rows = [cin_row(f"C{n}") for n in range(30)]
    assert push_json(client, world, "children-in-need", rows).status_code == 201
    (version,) = db.all(select(ListVersion))
    url = f"/v1/inspections/{world.inspection_id}/lists/children-in-need"
    assert client.get(url, headers=world.lead.headers).status_code == 200
    assert LAYOUTS.get(version.id) is not None
    state = app.state.jtai
    purge_inspection(
        state.session_factory, state.storage, world.inspection_id, "test", force_open=True
    )
    assert LAYOUTS.get(version.id) is None
    assert DECODED.get(version.id, 0) is None
    assert ENCODED.get((version.id, 0)) is None
