"""A list sent as bytes (application/octet-stream), as generated clients send files: read as a
workbook when it is one (its ZIP signature), else as CSV; what it was read as is kept."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.themes.registry import builtin_themes
from tests.child_lists.helpers import headings_of, to_csv, to_xlsx
from tests.factories import World
from tests.list_rows import cin_row


def _file(*, xlsx: bool) -> bytes:
    spec = builtin_themes().get("mental-health").get_list("children-in-need")
    assert spec is not None
    keys = [field.key for field in spec.fields]
    cells = [[cin_row(child).get(key) for key in keys] for child in ("B1", "B2")]
    return (to_xlsx if xlsx else to_csv)(headings_of(spec), cells)


@pytest.mark.parametrize(
    ("xlsx", "sent_as", "read_as"),
    [
        (False, "application/octet-stream", "text/csv"),
        (True, "application/octet-stream", "application/vnd.openxmlformats-officedocument"),
        (True, "text/csv", "application/vnd.openxmlformats-officedocument"),
    ],
)
def test_a_file_is_read_by_what_it_is(
    client: TestClient, world: World, xlsx: bool, sent_as: str, read_as: str
) -> None:
    pushed = client.put(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        content=_file(xlsx=xlsx),
        headers={**world.agency.headers, "Content-Type": sent_as},
    )
    assert pushed.status_code == 201, pushed.text
    version = pushed.json()["version"]
    assert (version["row_count"], version["media_type"].startswith(read_as)) == (2, True)


def test_bytes_that_are_neither_are_refused_as_a_list(client: TestClient, world: World) -> None:
    pushed = client.put(
        f"/v1/inspections/{world.inspection_id}/lists/children-in-need",
        content=b"PK\x03\x04 not really a workbook",
        headers={**world.agency.headers, "Content-Type": "application/octet-stream"},
    )
    assert pushed.status_code == 422, pushed.text
    assert pushed.headers["content-type"] == "application/problem+json"
