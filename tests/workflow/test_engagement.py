"""Engagement: whether tracked children, parents and carers agreed to meet inspectors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Actor, Factory
from tests.workflow.conftest import PAST, TRACKED, Exchange, exchange, milestone

CONFIRMED = "2030-03-14T16:00:00+00:00"


def _put(
    client: TestClient, ex: Exchange, body: dict[str, Any], child: str = "C1", **headers: str
) -> Any:
    actor: Actor = ex.health
    return client.put(f"{ex.child(child)}/engagement", json=body, headers=actor.headers | headers)


def test_reason_is_required_when_someone_says_no(client: TestClient, mh: Exchange) -> None:
    refused = _put(client, mh, {"child_agreed": True, "parent_agreed": False})
    assert refused.status_code == 422
    [problem] = refused.json()["errors"]
    assert problem["field"] == "body.reason_when_not"
    assert "parent_agreed" in problem["message"]
    body = {"child_agreed": True, "parent_agreed": False, "reason_when_not": "Parent declined."}
    assert _put(client, mh, body).status_code == 200
    # Not yet known (null) needs no reason.
    assert _put(client, mh, {"carer_agreed": None}, **{"If-Match": '"1"'}).status_code == 200


def test_versions_and_readers(client: TestClient, mh: Exchange) -> None:
    first = _put(client, mh, {"child_agreed": True, "arrangements": "School, Tuesday 10:00"})
    assert first.headers["ETag"] == '"1"'
    assert _put(client, mh, {"child_agreed": True}, **{"If-Match": '"0"'}).status_code == 412
    for reader in (mh.world.lead, mh.world.inspector, mh.police):
        read = client.get(f"{mh.child()}/engagement", headers=reader.headers)
        assert read.json()["arrangements"] == "School, Tuesday 10:00"
    other = client.get(f"{mh.child('C2')}/engagement", headers=mh.world.lead.headers)
    assert other.status_code == 404


@pytest.mark.parametrize("actor", ["lead", "inspector"])
def test_inspectors_do_not_write_it(client: TestClient, mh: Exchange, actor: str) -> None:
    caller = getattr(mh.world, actor)
    response = client.put(
        f"{mh.child()}/engagement", json={"child_agreed": True}, headers=caller.headers
    )
    assert response.status_code == 403


def test_only_tracked_children(client: TestClient, mh: Exchange) -> None:
    assert _put(client, mh, {"child_agreed": True}, child="C9").status_code == 404


def test_written_confirmation_for_all_meets_the_milestone(client: TestClient, mh: Exchange) -> None:
    for child in TRACKED:
        _put(client, mh, {"child_agreed": True}, child=child)
    assert milestone(client, mh, "engagement")["state"] == "pending"
    for child in TRACKED[:-1]:
        body = {"child_agreed": True, "confirmed_in_writing_at": CONFIRMED}
        _put(client, mh, body, child=child)
    assert milestone(client, mh, "engagement")["state"] == "pending"
    _put(client, mh, {"confirmed_in_writing_at": CONFIRMED}, child=TRACKED[-1])
    assert milestone(client, mh, "engagement")["state"] == "met"


def test_late_consent_turns_the_milestone_late(client: TestClient, factory: Factory) -> None:
    ex = exchange(factory, "domestic-abuse", PAST)
    assert milestone(client, ex, "consent")["state"] == "overdue"
    for child in TRACKED:
        _put(client, ex, {"confirmed_in_writing_at": CONFIRMED}, child=child)
    assert milestone(client, ex, "consent")["state"] == "late"
