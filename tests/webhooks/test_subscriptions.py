"""Subscribing: the organisation's own webhooks, a closed list of types, refused addresses."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.events.models import Event
from app.webhooks.address import AddressRefused, resolve
from app.webhooks.models import Webhook
from tests.conftest import Reader
from tests.factories import World

HOOK = {"url": "https://receiver.example/hook", "event_types": ["request.opened"]}
LOCAL_HOOK = {"url": "http://127.0.0.1:9/hook", "event_types": ["request.opened"]}


def _subscribe(client: TestClient, world: World, body: dict[str, Any] | None = None) -> Any:
    response = client.post("/v1/webhooks", json=body or LOCAL_HOOK, headers=world.agency.headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_secret_is_shown_once_in_standard_webhooks_form(
    client: TestClient, world: World
) -> None:
    created = _subscribe(client, world)
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 32
    assert created["event_types"] == ["request.opened"]
    read = client.get(f"/v1/webhooks/{created['id']}", headers=world.agency.headers).json()
    assert "secret" not in read
    listed = client.get("/v1/webhooks", headers=world.agency.headers).json()
    assert [hook["id"] for hook in listed] == [created["id"]]
    assert all("secret" not in hook for hook in listed)


def test_another_organisations_webhook_is_not_found(client: TestClient, world: World) -> None:
    created = _subscribe(client, world)
    other = world.other_area_agency.headers
    for method, suffix in (("GET", ""), ("DELETE", ""), ("GET", "/deliveries"), ("POST", "/ping")):
        response = client.request(method, f"/v1/webhooks/{created['id']}{suffix}", headers=other)
        assert response.status_code == 404, (method, suffix)
    assert client.get("/v1/webhooks", headers=other).json() == []
    # The council's own administrator sees it and may retire it, but may not read what it
    # was told (its deliveries name the events its client may hear of) nor ping it.
    admin = world.org_admin.headers
    url = f"/v1/webhooks/{created['id']}"
    assert client.get(url, headers=admin).status_code == 200
    assert [hook["id"] for hook in client.get("/v1/webhooks", headers=admin).json()] == [
        created["id"]
    ]
    assert client.get(f"{url}/deliveries", headers=admin).status_code == 404
    assert client.post(f"{url}/ping", headers=admin).status_code == 404
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get(url, headers=world.agency.headers).status_code == 404


def test_a_webhook_is_its_clients_not_every_colleagues(client: TestClient, world: World) -> None:
    """CQC's inspector on the team subscribes; a CQC colleague off the team must not read its
    delivery log (it names events of an inspection they may not know of), nor ping, see or
    delete it."""
    inspector, colleague = world.inspector.headers, world.off_team_inspector.headers
    made = client.post("/v1/webhooks", json=LOCAL_HOOK, headers=inspector)
    assert made.status_code == 201, made.text
    hook = made.json()["id"]
    for method, suffix in (("GET", ""), ("DELETE", ""), ("GET", "/deliveries"), ("POST", "/ping")):
        response = client.request(method, f"/v1/webhooks/{hook}{suffix}", headers=colleague)
        assert response.status_code == 404, (method, suffix)
    assert client.get("/v1/webhooks", headers=colleague).json() == []
    assert client.get(f"/v1/webhooks/{hook}/deliveries", headers=inspector).status_code == 200


def test_a_deleted_webhook_is_gone_and_its_secret_forgotten(
    client: TestClient, world: World, db: Reader
) -> None:
    created = _subscribe(client, world)
    path = f"/v1/webhooks/{created['id']}"
    assert client.delete(path, headers=world.agency.headers).status_code == 204
    assert client.get(path, headers=world.agency.headers).status_code == 404
    assert client.post(f"{path}/ping", headers=world.agency.headers).status_code == 404
    [row] = db.all(select(Webhook).where(Webhook.id == uuid.UUID(created["id"])))
    assert row.secret == ""
    assert row.deleted_at is not None


def test_unknown_event_types_are_named(client: TestClient, world: World, db: Reader) -> None:
    body = {"url": LOCAL_HOOK["url"], "event_types": ["request.opened", "child.kidnapped", "x"]}
    response = client.post("/v1/webhooks", json=body, headers=world.agency.headers)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "unknown_event_type"
    assert [item["field"] for item in problem["errors"]] == ["event_types.1", "event_types.2"]
    assert "child.kidnapped" in problem["detail"]
    assert db.all(select(Webhook)) == []
    # Pings always come; they are not a type to subscribe to.
    ping_only = {"url": LOCAL_HOOK["url"], "event_types": ["webhook.ping"]}
    response = client.post("/v1/webhooks", json=ping_only, headers=world.agency.headers)
    assert (response.status_code, response.json()["code"]) == (422, "unknown_event_type")


def test_a_ping_is_an_event_no_feed_hears_of(client: TestClient, world: World, db: Reader) -> None:
    created = _subscribe(client, world)
    response = client.post(f"/v1/webhooks/{created['id']}/ping", headers=world.agency.headers)
    assert response.status_code == 202
    assert response.json() == {"webhook_id": created["id"]}
    [event] = db.all(select(Event).where(Event.event_type == "webhook.ping"))
    assert event.resource_id == created["id"]
    assert (event.to_inspectors, event.to_participants, event.inspection_id) == (
        False,
        False,
        None,
    )


def test_a_person_does_not_subscribe(client: TestClient, world: World) -> None:
    """Only systems: checked in the access matrix with a signed-in person; here the message."""
    response = client.post("/v1/webhooks", json=LOCAL_HOOK, headers=world.operator.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


@pytest.fixture
def strict(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """The service as deployed: https only, public addresses only."""
    state = app.state.jtai
    strict_settings = state.settings.model_copy(
        update={"webhook_allow_insecure": False, "webhook_allow_private": False}
    )
    monkeypatch.setattr(state, "settings", strict_settings)


REFUSED = [
    "https://127.0.0.1/hook",
    "https://10.1.2.3/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://localhost/hook",  # a name resolving to loopback
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://192.0.0.8/hook",
    "https://[2002:5db8:d70e::1]/hook",  # 6to4, embedding a public address
    "https://[fec0::1]/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_addresses_are_refused(
    client: TestClient, world: World, strict: None, url: str, db: Reader
) -> None:
    body = {"url": url, "event_types": ["request.opened"]}
    response = client.post("/v1/webhooks", json=body, headers=world.agency.headers)
    assert response.status_code == 422, url
    assert response.json()["code"] == "webhook_url_refused"
    assert response.json()["detail"] == (
        "The webhook URL is refused: the host does not resolve to public addresses only."
    )
    assert db.all(select(Webhook)) == []


def test_a_refusal_does_not_say_what_a_name_resolves_to(
    client: TestClient, world: World, strict: None
) -> None:
    """Naming the address would make the service a DNS oracle for internal names."""
    body = {"url": "https://localhost/hook", "event_types": ["request.opened"]}
    response = client.post("/v1/webhooks", json=body, headers=world.agency.headers)
    assert response.status_code == 422
    assert "public addresses only" in response.text
    for address in ("127.0.0.1", "::1"):
        assert address not in response.json()["detail"]
        assert all(address not in item["message"] for item in response.json()["errors"])


def test_https_is_required(client: TestClient, world: World, strict: None) -> None:
    body = {"url": "http://receiver.example/hook", "event_types": ["request.opened"]}
    response = client.post("/v1/webhooks", json=body, headers=world.agency.headers)
    assert response.status_code == 422
    assert "https" in response.json()["detail"]


@pytest.mark.parametrize(
    "url", ["https://user:pw@receiver.example/x", "https:///x", "ftp://receiver.example/x"]
)
def test_odd_urls_are_refused(url: str) -> None:
    with pytest.raises(AddressRefused):
        resolve(url, allow_insecure=False, allow_private=False)


def test_a_public_address_passes_and_is_the_one_connected_to() -> None:
    target = resolve("https://93.184.215.14:8443/in?x=1", allow_insecure=False, allow_private=False)
    assert target.connect_url == "https://93.184.215.14:8443/in?x=1"
    assert target.host_header == "93.184.215.14:8443"
