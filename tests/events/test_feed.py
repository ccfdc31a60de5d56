"""GET /v1/events: the caller's events in order, resumable exactly from a cursor."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.database import session_scope
from app.events.outbox import Audience, emit
from tests.events.helpers import feed
from tests.factories import Actor, Factory, World


def _tell(factory: Factory, world: World, count: int, organisation: uuid.UUID) -> None:
    """``count`` events named to one organisation, each in its own transaction."""
    for n in range(count):
        with session_scope(factory.state.session_factory) as session:
            emit(
                session,
                "meeting.changed",
                inspection_id=world.inspection_id,
                resource_type="meeting",
                resource_id=uuid.uuid4(),
                url=f"/v1/inspections/{world.inspection_id}/meetings#{n}",
                audience=Audience(organisations=(organisation,)),
            )


def _told(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events ``_tell`` wrote."""
    return [item for item in items if "#" in item["resource"]["url"]]


def _page(client: TestClient, actor: Actor, **params: Any) -> dict[str, Any]:
    answer = client.get("/v1/events", params=params, headers=actor.headers)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def test_pages_resume_exactly_where_they_ended(
    client: TestClient, factory: Factory, world: World
) -> None:
    agency = world.agency
    _tell(factory, world, 7, agency.organisation_id)
    whole = [item["id"] for item in _page(client, agency, limit=500)["items"]]
    assert len(whole) >= 7  # and the requests opened to the council with the world
    read: list[str] = []
    cursor = ""
    for _ in range(10):
        page = _page(client, agency, after=cursor, limit=3)
        read += [item["id"] for item in page["items"]]
        if not page["items"]:
            assert page["next_cursor"] == cursor  # nothing new: the same place to resume from
            break
        cursor = page["next_cursor"]
    assert read == whole  # every one, once, in order
    _tell(factory, world, 2, agency.organisation_id)
    later = _page(client, agency, after=cursor)
    assert len(later["items"]) == 2
    assert [item["id"] for item in feed(client, agency)] == whole + [
        item["id"] for item in later["items"]
    ]


def test_another_organisations_events_are_not_in_the_feed(
    client: TestClient, factory: Factory, world: World
) -> None:
    _tell(factory, world, 2, world.agency.organisation_id)
    assert len(_told(feed(client, world.agency))) == 2
    assert _told(feed(client, world.other_area_agency)) == []
    assert _told(feed(client, world.inspector)) == []  # named to the council alone


@pytest.mark.parametrize(
    "params",
    [
        {"after": "x"},
        {"after": "-1"},
        {"after": "1.2"},
        {"after": "9" * 30},
        {"after": "2" * 80},
        {"limit": 0},
        {"limit": 501},
        {"limit": "many"},
        {"wait": -1},
        {"wait": 31},
        {"wait": "1e9"},
    ],
)
def test_hostile_parameters_are_refused_by_name(
    client: TestClient, world: World, params: dict[str, Any]
) -> None:
    answer = client.get("/v1/events", params=params, headers=world.agency.headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    (name,) = params
    assert name in answer.text
    assert problem["status"] == 422


def test_no_token_no_feed(client: TestClient, world: World) -> None:
    assert client.get("/v1/events").status_code == 401


def test_a_long_poll_answers_at_once_when_there_are_events(
    client: TestClient, factory: Factory, world: World
) -> None:
    cursor = _page(client, world.agency, limit=500)["next_cursor"]
    _tell(factory, world, 1, world.agency.organisation_id)
    started = time.monotonic()
    page = _page(client, world.agency, after=cursor, wait=30)
    assert len(_told(page["items"])) == 1
    assert time.monotonic() - started < 5


def test_a_long_poll_waits_then_answers_empty(client: TestClient, world: World) -> None:
    cursor = _page(client, world.agency, limit=500)["next_cursor"]
    started = time.monotonic()
    page = _page(client, world.agency, after=cursor, wait=1)
    elapsed = time.monotonic() - started
    assert page == {"items": [], "next_cursor": cursor}
    assert 0.9 <= elapsed < 5


@pytest.mark.commits
def test_a_long_poll_answers_as_soon_as_an_event_commits(
    client: TestClient, factory: Factory, db_kind: str
) -> None:
    world = factory.world()
    cursor = _page(client, world.agency, limit=500)["next_cursor"]
    later = threading.Timer(0.5, _tell, (factory, world, 1, world.agency.organisation_id))
    started = time.monotonic()
    later.start()
    try:
        page = _page(client, world.agency, after=cursor, wait=30)
    finally:
        later.join()
    assert len(_told(page["items"])) == 1
    elapsed = time.monotonic() - started
    assert elapsed >= 0.4
    if db_kind == "sqlite":
        # On PostgreSQL an event is read once every older transaction has ended, and
        # pg_snapshot_xmin counts every database of the server: another database's long
        # transaction (other test runs sharing the server) can hold it back for seconds.
        assert elapsed < 5
