"""A push longer than one block: its reader sends the blocks one by one after the report, and
the service stores each as it comes, the body hashed on its way to the reader."""

from __future__ import annotations

import hashlib
import json

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.child_lists.models import ListBlock, ListVersion
from tests.conftest import Reader
from tests.factories import World
from tests.list_rows import cin_row

ROWS = 2_500  # blocks of 1,000, 1,000 and 500


def _push(client: TestClient, world: World, body: bytes, **params: str) -> httpx.Response:
    return client.put(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        content=body,
        params=params,
        headers={**world.agency.headers, "Content-Type": "application/json"},
    )


def _body() -> bytes:
    rows = [cin_row(f"C{n:05d}") for n in range(ROWS)]
    return json.dumps({"rows": rows}).encode()


def test_a_list_of_several_blocks_is_stored_block_by_block(
    client: TestClient, world: World, db: Reader
) -> None:
    body = _body()
    response = _push(client, world, body)
    assert response.status_code == 201, response.text
    stored = db.all(select(ListBlock).order_by(ListBlock.number))
    assert [(b.number, b.first_row, b.row_count) for b in stored] == [
        (0, 0, 1000),
        (1, 1000, 1000),
        (2, 2000, 500),
    ]
    assert stored[1].child_ids.startswith("\nC01000\nC01001\n")
    assert stored[2].child_ids.endswith("\nC02499\n")
    (version,) = db.all(select(ListVersion))
    assert version.row_count == ROWS
    assert version.body_sha256 == hashlib.sha256(body).hexdigest()
    page = client.get(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        params={"offset": 995, "limit": 10},
        headers=world.lead.headers,
    )
    assert page.status_code == 200
    assert [row["child_id"] for row in page.json()["items"]] == [
        f"C{n:05d}" for n in range(995, 1005)
    ]


def test_a_dry_run_of_several_blocks_stores_none_and_the_reader_stays_usable(
    client: TestClient, world: World, db: Reader
) -> None:
    response = _push(client, world, _body(), dry_run="true")
    assert response.status_code == 200
    assert response.json()["report"]["rows"] == ROWS
    assert db.all(select(ListBlock)) == []
    assert _push(client, world, _body()).status_code == 201
    assert len(db.all(select(ListBlock))) == 3
