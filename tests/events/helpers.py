"""Reading a caller's feed the way a consumer does."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Actor


def feed(client: TestClient, actor: Actor, **params: Any) -> list[dict[str, Any]]:
    """Every event the actor hears of, paging to the end."""
    items: list[dict[str, Any]] = []
    after = ""
    while True:
        answer = client.get(
            "/v1/events", params={"after": after, "limit": 500, **params}, headers=actor.headers
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items += page["items"]
        if not page["items"]:
            return items
        after = page["next_cursor"]


def of_type(items: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [item for item in items if item["type"] == event_type]


def about(items: list[dict[str, Any]], inspection_id: uuid.UUID) -> list[dict[str, Any]]:
    return [item for item in items if item["inspection_id"] == str(inspection_id)]
