"""Idempotency-Key on POSTs: replays, conflicts, and nothing done twice."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth.roles import Role
from app.documents.models import Document
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation
from tests.conftest import Reader
from tests.factories import PDF, Factory

LONDON = ZoneInfo("Europe/London")


def test_same_key_same_body_replays_the_first_answer(
    client: TestClient, factory: Factory, db: Reader
) -> None:
    world = factory.world()
    headers = {**world.operator.headers, "Idempotency-Key": "org-1"}
    body = {"name": "Police", "kind": "police"}
    first = client.post("/v1/organisations", json=body, headers=headers)
    second = client.post("/v1/organisations", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert len(db.all(select(Organisation).where(Organisation.name == "Police"))) == 1


def test_same_key_other_body_is_422(client: TestClient, factory: Factory) -> None:
    world = factory.world()
    headers = {**world.operator.headers, "Idempotency-Key": "org-2"}
    client.post("/v1/organisations", json={"name": "A", "kind": "police"}, headers=headers)
    other = client.post("/v1/organisations", json={"name": "B", "kind": "police"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_keys_are_per_client(client: TestClient, factory: Factory, db: Reader) -> None:
    world = factory.world()
    second_operator = factory.actor(OrganisationKind.PLATFORM, [Role.OPERATOR])
    body = {"name": "Shared key", "kind": "health"}
    for actor in (world.operator, second_operator):
        response = client.post(
            "/v1/organisations", json=body, headers={**actor.headers, "Idempotency-Key": "same"}
        )
        assert response.status_code == 201
    assert len(db.all(select(Organisation).where(Organisation.name == "Shared key"))) == 2


def test_uploads_are_not_stored_twice(client: TestClient, factory: Factory, db: Reader) -> None:
    world = factory.world("mental-health", datetime(2030, 3, 4, 9, 0, tzinfo=LONDON))
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    headers = {**world.agency.headers, "Idempotency-Key": "upload-1"}
    files = {"file": ("plan.pdf", PDF, "application/pdf")}
    first = client.post(f"/v1/requests/{request_id}/documents", files=files, headers=headers)
    second = client.post(f"/v1/requests/{request_id}/documents", files=files, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert len(db.all(select(Document))) == 1


def test_a_concurrent_duplicate_is_409(client: TestClient, factory: Factory) -> None:
    world = factory.world()
    headers = {**world.operator.headers, "Idempotency-Key": "slow"}
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        barrier.wait()
        response = client.post(
            "/v1/organisations", json={"name": "Race", "kind": "police"}, headers=headers
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One creates; the others either replay it (after) or are told it is running (during).
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}


def test_bad_keys_are_400(client: TestClient, factory: Factory) -> None:
    world = factory.world()
    response = client.post(
        "/v1/organisations",
        json={"name": "X", "kind": "police"},
        headers={**world.operator.headers, "Idempotency-Key": "has spaces"},
    )
    assert response.status_code == 400
