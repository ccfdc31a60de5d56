"""The documents milestone is met when every request is answered, each kind it covers by a
document or a nil return: "none held" counts like an upload, so an agency with nothing to
send no longer leaves the milestone overdue forever (issue 16)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import PDF, Factory, World
from tests.worlds import FUTURE, PAST


def _requests(client: TestClient, world: World) -> list[dict[str, Any]]:
    url = f"/v1/inspections/{world.inspection_id}/requests"
    found: list[dict[str, Any]] = client.get(url, headers=world.agency.headers).json()
    return found


def _documents_milestone(client: TestClient, world: World) -> dict[str, Any]:
    schedule = client.get(
        f"/v1/inspections/{world.inspection_id}/schedule", headers=world.lead.headers
    ).json()
    found: dict[str, Any] = next(m for m in schedule["milestones"] if m["key"] == "documents")
    return found


def _none_held(client: TestClient, world: World, request_id: str, kind: str | None) -> None:
    body = {"reason": "None held for this child.", "document_kind": kind}
    said = client.post(
        f"/v1/requests/{request_id}/nil-return", json=body, headers=world.agency.headers
    )
    assert said.status_code == 201, said.text


def _send(client: TestClient, world: World, request_id: str, kind: str | None) -> None:
    sent = client.post(
        f"/v1/requests/{request_id}/documents",
        data={"document_kind": kind} if kind else None,
        files={"file": ("evidence.pdf", PDF, "application/pdf")},
        headers=world.agency.headers,
    )
    assert sent.status_code == 201, sent.text


def _answer_all_but_one(client: TestClient, world: World) -> tuple[str, str | None]:
    """Every kind of every request answered, half of them "none held", but the last one."""
    owed = [(r["id"], kind) for r in _requests(client, world) for kind in r["categories"] or [None]]
    *answered, last = owed
    for number, (request_id, kind) in enumerate(answered):
        (_none_held if number % 2 else _send)(client, world, request_id, kind)
    return last


@pytest.mark.world(notification_at=PAST)
def test_nil_returns_satisfy_the_documents_milestone(
    client: TestClient, factory: Factory, world: World
) -> None:
    factory.selection(world.inspection_id, "tracked", ["C1"])
    assert _documents_milestone(client, world)["state"] == "overdue"
    request_id, kind = _answer_all_but_one(client, world)
    assert _documents_milestone(client, world)["state"] == "overdue"  # one kind still owed

    _none_held(client, world, request_id, kind)
    milestone = _documents_milestone(client, world)
    assert milestone["state"] == "late"  # met, after its due time
    descriptions = " ".join(c["description"] for c in milestone["satisfied_by"])
    assert "'none held'" in descriptions


@pytest.mark.world(notification_at=FUTURE)
def test_one_kind_of_a_case_file_request_does_not_meet_the_milestone(
    client: TestClient, factory: Factory, world: World
) -> None:
    factory.selection(world.inspection_id, "tracked", ["C1"])
    for request in _requests(client, world):
        if request["kind"] == "information_item":
            _none_held(client, world, request["id"], None)
        elif request["kind"] == "case_file":
            _send(client, world, request["id"], request["categories"][0])
    conditions = {c["kind"]: c for c in _documents_milestone(client, world)["satisfied_by"]}
    assert conditions["information_items_provided"]["met_at"] is not None
    assert conditions["documents_for_tracked_children"]["met_at"] is None
    assert _documents_milestone(client, world)["state"] == "pending"
