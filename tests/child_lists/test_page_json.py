"""A list page written straight to JSON says what the ListPage model says, field for field."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from app.child_lists.blocks import StoredRow, encoded
from app.child_lists.models import ListVersion
from app.child_lists.reading import PageRow, SuppliedRow
from app.child_lists.repository import Contribution
from app.child_lists.schemas import ListPage, ListVersionRead, list_page_json, rows_read


def _contribution(number: int, name: str | None, columns: list[str]) -> Contribution:
    version = ListVersion(
        id=uuid.uuid4(),
        inspection_id=uuid.uuid4(),
        list_key="children-in-need",
        number=number,
        created_at=datetime(2026, 12, 3, 9, 30, 1, 250, tzinfo=UTC),
        client_id=uuid.uuid4(),
        organisation_id=uuid.uuid4(),
        media_type="text/csv",
        body_sha256="ab" * 32,
        row_count=2,
        warning_count=0,
        warnings=[],
        columns=columns,
        due_at=None,
        late=False,
    )
    return Contribution(version, name)


def test_page_json_matches_the_model_for_rows_of_two_suppliers() -> None:
    council = _contribution(3, 'Council "children\'s" services', ["age", "start", "flag"])
    health = _contribution(1, None, ["age"])
    rows = [
        SuppliedRow(
            StoredRow(
                council.version.id, 2, "C-1", {"age": 9, "start": "2026-01-02", "flag": True}
            ),
            council,
        ),
        SuppliedRow(
            StoredRow(
                council.version.id, 3, "C-\u00e9\n2", {"age": None, "start": None, "flag": False}
            ),
            council,
        ),
        SuppliedRow(StoredRow(health.version.id, 2, "C-1", {"age": 10}), health),
    ]
    page = ListPage.model_construct(
        list_key="children-in-need",
        contributions=[ListVersionRead.of(c) for c in (council, health)],
        items=[],
        limit=3,
        offset=0,
        total=7,
        next_offset=3,
    )
    written = list_page_json(page, [PageRow(encoded(row), supplier) for row, supplier in rows])
    by_model = page.model_copy(update={"items": rows_read(rows)}).model_dump_json()
    assert json.loads(written) == json.loads(by_model)
    assert list(json.loads(written)) == list(ListPage.model_fields)
    assert ListPage.model_validate_json(written).items[1].child_id == "C-\u00e9\n2"


def test_an_empty_page_has_no_items() -> None:
    page = ListPage.model_construct(
        list_key="x", contributions=[], items=[], limit=100, offset=200, total=5, next_offset=None
    )
    assert json.loads(list_page_json(page, []))["items"] == []


def test_cells_that_are_not_numbers_in_json_are_written_as_null() -> None:
    # No theme field holds floats today; a reader that typed one would still give valid JSON.
    health = _contribution(1, None, ["score", "ratio"])
    row = StoredRow(health.version.id, 1, "C-1", {"score": float("nan"), "ratio": float("inf")})
    page = ListPage.model_construct(
        list_key="x", contributions=[], items=[], limit=1, offset=0, total=1, next_offset=None
    )
    written = list_page_json(page, [PageRow(encoded(row), health)])
    strict = json.loads(written, parse_constant=_refused)
    assert strict["items"][0]["data"] == {"score": None, "ratio": None}


def _refused(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")
