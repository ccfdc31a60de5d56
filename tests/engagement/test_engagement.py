"""Engagement: whether tracked children, parents and carers agreed to meet inspectors."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Actor, Factory
from tests.worlds import FUTURE, PAST, TRACKED, Exchange, milestone

CONFIRMED = "2030-03-14T16:00:00+00:00"
IF_MATCH_1 = {"If-Match": '"1"'}


def _put(
    client: TestClient, ex: Exchange, body: dict[str, Any], child: str = "C1", **headers: str
) -> Any:
    actor: Actor = ex.health
    return client.put(f"{ex.child(child)}/engagement", json=body, headers=actor.headers | headers)


def test_reason_is_required_when_someone_says_no(client: TestClient, ex: Exchange) -> None:
    refused = _put(client, ex, {"child_agreed": True, "parent_agreed": False})
    assert refused.status_code == 422
    [problem] = refused.json()["errors"]
    assert problem["field"] == "body.reason_when_not"
    assert "parent_agreed" in problem["message"]
    body = {"child_agreed": True, "parent_agreed": False, "reason_when_not": "Parent declined."}
    assert _put(client, ex, body).status_code == 200
    # Not yet known (null) needs no reason.
    assert _put(client, ex, {"carer_agreed": None}, **{"If-Match": '"1"'}).status_code == 200


def test_versions_and_readers(client: TestClient, ex: Exchange) -> None:
    first = _put(client, ex, {"child_agreed": True, "arrangements": "School, Tuesday 10:00"})
    assert first.headers["ETag"] == '"1"'
    assert _put(client, ex, {"child_agreed": True}, **{"If-Match": '"0"'}).status_code == 412
    for reader in (ex.world.lead, ex.world.inspector, ex.police):
        read = client.get(f"{ex.child()}/engagement", headers=reader.headers)
        assert read.json()["arrangements"] == "School, Tuesday 10:00"
    other = client.get(f"{ex.child('C2')}/engagement", headers=ex.world.lead.headers)
    assert other.status_code == 404


@pytest.mark.parametrize("actor", ["lead", "inspector"])
def test_inspectors_do_not_write_it(client: TestClient, ex: Exchange, actor: str) -> None:
    caller = getattr(ex.world, actor)
    response = client.put(
        f"{ex.child()}/engagement", json={"child_agreed": True}, headers=caller.headers
    )
    assert response.status_code == 403


def test_only_tracked_children(client: TestClient, ex: Exchange) -> None:
    assert _put(client, ex, {"child_agreed": True}, child="C9").status_code == 404


def test_written_confirmation_for_all_meets_the_milestone(client: TestClient, ex: Exchange) -> None:
    for child in TRACKED:
        assert _put(client, ex, {"child_agreed": True}, child=child).status_code == 200
    assert milestone(client, ex, "engagement")["state"] == "pending"
    for child in TRACKED[:-1]:
        body = {"child_agreed": True, "confirmed_in_writing_at": CONFIRMED}
        assert _put(client, ex, body, child=child, **{"If-Match": '"1"'}).status_code == 200
    assert milestone(client, ex, "engagement")["state"] == "pending"
    last = _put(client, ex, {"confirmed_in_writing_at": CONFIRMED}, TRACKED[-1], **IF_MATCH_1)
    assert last.status_code == 200
    assert milestone(client, ex, "engagement")["state"] == "met"


def test_a_change_needs_if_match_and_a_blind_one_changes_nothing(
    client: TestClient, ex: Exchange
) -> None:
    council = ex.world.agency  # the inspection's local authority
    url = f"{ex.child()}/engagement"
    written = client.put(url, json={"arrangements": "Home visit"}, headers=council.headers)
    assert written.status_code == 200
    assert written.headers["ETag"] == '"1"'
    blind = _put(client, ex, {"arrangements": "Cancelled"})
    assert blind.status_code == 428
    assert blind.json()["code"] == "precondition_required"
    stale = _put(client, ex, {"arrangements": "Cancelled"}, **{"If-Match": '"0"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_mismatch"
    read = client.get(url, headers=ex.world.lead.headers)
    assert read.headers["ETag"] == '"1"'
    assert read.json()["arrangements"] == "Home visit"
    assert read.json()["changed_by_organisation_id"] == str(council.organisation_id)
    based_on_it = _put(client, ex, {"arrangements": "Clinic"}, **{"If-Match": read.headers["ETag"]})
    assert based_on_it.status_code == 200
    assert based_on_it.headers["ETag"] == '"2"'
    assert client.get(url, headers=council.headers).json()["arrangements"] == "Clinic"


@pytest.mark.parametrize(
    ("theme", "kind", "status"),
    [
        ("mental-health", "school", 403),
        ("mental-health", "other_agency", 403),
        ("domestic-abuse", "probation", 200),  # responsible for 'consent' here
        ("domestic-abuse", "school", 403),
    ],
)
def test_only_the_themes_responsible_organisations_write_it(
    client: TestClient, factory: Factory, theme: str, kind: str, status: int
) -> None:
    ex = Exchange.around(factory, factory.world(theme, FUTURE))
    writer = factory.actor_in(ex.world, kind)
    url = f"{ex.child()}/engagement"
    response = client.put(url, json={"child_agreed": True}, headers=writer.headers)
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "not_responsible_for_engagement"
        assert "local_authority" in response.json()["detail"]  # names who may
        assert client.get(url, headers=ex.world.lead.headers).status_code == 404


def test_a_non_responsible_agency_cannot_overwrite_the_councils_record(
    client: TestClient, factory: Factory, ex: Exchange
) -> None:
    url = f"{ex.child()}/engagement"
    client.put(url, json={"child_agreed": True}, headers=ex.world.agency.headers)
    school = factory.actor_in(ex.world, "school")
    response = client.put(
        url,
        json={"child_agreed": False, "reason_when_not": "x"},
        headers=school.headers | IF_MATCH_1,
    )
    assert response.status_code == 403
    assert client.get(url, headers=ex.world.lead.headers).json()["child_agreed"] is True


@pytest.mark.world(theme="domestic-abuse", notification_at=PAST)
def test_late_consent_turns_the_milestone_late(client: TestClient, ex: Exchange) -> None:
    assert milestone(client, ex, "consent")["state"] == "overdue"
    for child in TRACKED:
        written = _put(client, ex, {"confirmed_in_writing_at": CONFIRMED}, child=child)
        assert written.status_code == 200
    assert milestone(client, ex, "consent")["state"] == "late"


def _race(client: TestClient, url: str, actor: Actor, headers: dict[str, str]) -> list[int]:
    racers = 8
    start = threading.Barrier(racers)
    statuses: list[int] = []

    def write(n: int) -> None:
        start.wait()
        body = {"arrangements": f"writer {n}"}
        statuses.append(client.put(url, json=body, headers=actor.headers | headers).status_code)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


@pytest.mark.commits
def test_racing_writers_of_one_version_lose_nothing(client: TestClient, ex: Exchange) -> None:
    url = f"{ex.child()}/engagement"
    council = ex.world.agency
    first = _race(client, url, council, {})  # first records, all at once
    # A loser either met the other's insert (412) or, serialised after it, changed an
    # existing record without If-Match (428): never a 500, never two records.
    assert first[0] == 200
    assert set(first[1:]) <= {412, 428}
    assert _race(client, url, council, IF_MATCH_1) == [200] + [412] * 7
    read = client.get(url, headers=council.headers)
    assert read.headers["ETag"] == '"2"'
