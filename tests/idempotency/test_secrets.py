"""Idempotency-Key answers keep no secrets, and go to no client that may no longer act."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth.models import ApiClient
from app.auth.roles import Role
from app.idempotency.models import IdempotencyRecord
from app.organisations.kinds import OrganisationKind
from tests.conftest import Reader
from tests.factories import Factory


def _records(db: Reader, key: str) -> list[IdempotencyRecord]:
    return db.all(select(IdempotencyRecord).where(IdempotencyRecord.key == key))


def _row_text(record: IdempotencyRecord) -> str:
    """Every stored value of a record, as text, to look for a secret anywhere in it."""
    return json.dumps(
        {column.key: str(getattr(record, column.key)) for column in record.__table__.columns}
    )


def _assert_not_replayable(response: Any, secret_word: str) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "not_replayable"
    assert secret_word in response.json()["detail"]
    assert "idempotent-replayed" not in response.headers


def test_a_new_clients_secret_is_not_stored_and_a_retry_is_409(
    client: TestClient, factory: Factory, db: Reader
) -> None:
    world = factory.world()
    # The council's clients are made by its own administrator.
    headers = {**world.org_admin.headers, "Idempotency-Key": "new-client"}
    url = f"/v1/organisations/{world.agency.organisation_id}/clients"
    body = {"name": "Case system", "roles": ["agency"]}
    first = client.post(url, json=body, headers=headers)
    retry = client.post(url, json=body, headers=headers)
    assert first.status_code == 201
    secret = first.json()["client_secret"]
    _assert_not_replayable(retry, "client secret")
    [record] = _records(db, "new-client")
    assert record.body is None
    assert secret not in _row_text(record)
    # Not replayed, and not done twice either.
    assert len(db.all(select(ApiClient).where(ApiClient.name == "Case system"))) == 1


def test_a_rotated_secret_is_not_stored_and_a_retry_is_409(
    client: TestClient, factory: Factory, db: Reader
) -> None:
    world = factory.world()
    headers = {**world.org_admin.headers, "Idempotency-Key": "rotate"}
    url = f"/v1/clients/{world.agency.client_id}/secret"
    first = client.post(url, headers=headers)
    retry = client.post(url, headers=headers)
    assert first.status_code == 200
    _assert_not_replayable(retry, "client secret")
    [record] = _records(db, "rotate")
    assert first.json()["client_secret"] not in _row_text(record)


def test_an_access_token_is_not_stored_and_a_retry_is_409(
    client: TestClient, factory: Factory, db: Reader
) -> None:
    agency = factory.actor(OrganisationKind.LOCAL_AUTHORITY, [Role.AGENCY])
    form = {
        "grant_type": "client_credentials",
        "client_id": str(agency.client_id),
        "client_secret": agency.secret,
    }
    # A bearer token beside form credentials is what makes the middleware keep an answer.
    headers = {**agency.headers, "Idempotency-Key": "token"}
    first = client.post("/v1/auth/token", data=form, headers=headers)
    retry = client.post("/v1/auth/token", data=form, headers=headers)
    assert first.status_code == 200
    _assert_not_replayable(retry, "access token")
    [record] = _records(db, "token")
    assert first.json()["access_token"] not in _row_text(record)


def test_a_failed_secret_request_is_replayed_as_usual(client: TestClient, factory: Factory) -> None:
    """Only answers that carry the secret are withheld; a refusal holds none."""
    world = factory.world()
    headers = {**world.org_admin.headers, "Idempotency-Key": "bad-roles"}
    url = f"/v1/organisations/{world.agency.organisation_id}/clients"
    body = {"name": "Wrong", "roles": [Role.LEAD_INSPECTOR.value]}
    first = client.post(url, json=body, headers=headers)
    retry = client.post(url, json=body, headers=headers)
    assert first.status_code == 422
    assert retry.status_code == 422
    assert retry.headers["idempotent-replayed"] == "true"


def test_a_disabled_clients_answers_are_deleted_and_never_replayed(
    client: TestClient, factory: Factory, db: Reader
) -> None:
    world = factory.world()
    second_operator = factory.actor(OrganisationKind.PLATFORM, [Role.OPERATOR])
    headers = {**second_operator.headers, "Idempotency-Key": "made-by-a-leaver"}
    body = {"name": "Made before leaving", "kind": "police"}
    first = client.post("/v1/organisations", json=body, headers=headers)
    assert first.status_code == 201
    other = client.post(
        "/v1/organisations",
        json={"name": "Kept", "kind": "police"},
        headers={**world.operator.headers, "Idempotency-Key": "made-by-a-stayer"},
    )
    assert other.status_code == 201

    disabled = client.post(
        f"/v1/clients/{second_operator.client_id}/disable", headers=world.operator.headers
    )
    assert disabled.status_code == 200
    assert _records(db, "made-by-a-leaver") == []
    assert len(_records(db, "made-by-a-stayer")) == 1
    # Its token (still unexpired) gets the app's 401, not the stored answer.
    retry = client.post("/v1/organisations", json=body, headers=headers)
    assert retry.status_code == 401
    assert "idempotent-replayed" not in retry.headers


def test_a_replay_goes_only_to_a_token_the_app_accepts(
    client: TestClient, factory: Factory, db: Reader
) -> None:
    """Even with a record left behind, a disabled client's token is answered 401."""
    second_operator = factory.actor(OrganisationKind.PLATFORM, [Role.OPERATOR])
    headers = {**second_operator.headers, "Idempotency-Key": "left-behind"}
    body = {"name": "Left behind", "kind": "police"}
    assert client.post("/v1/organisations", json=body, headers=headers).status_code == 201
    with factory.state.session_factory.begin() as session:
        found = session.get(ApiClient, second_operator.client_id)
        assert found is not None
        found.disabled_at = found.created_at  # disabled behind the API's back: record stays
    assert len(_records(db, "left-behind")) == 1
    retry = client.post("/v1/organisations", json=body, headers=headers)
    assert retry.status_code == 401
