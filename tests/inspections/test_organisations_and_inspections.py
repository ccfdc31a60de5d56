"""Organisations, clients and inspections: what the operator sets up, and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth.roles import Role
from app.organisations.kinds import OrganisationKind
from tests.factories import Factory, World


def _post(client: TestClient, world: World, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json=body, headers=world.operator.headers)


@pytest.mark.parametrize(
    ("kind", "roles"),
    [
        ("police", ["inspector"]),
        ("ofsted", ["agency"]),
        ("cqc", ["lead_inspector"]),
        ("local_authority", ["operator"]),
        ("platform", ["agency"]),
    ],
)
def test_roles_must_fit_the_organisation_kind(
    client: TestClient, world: World, kind: str, roles: list[str]
) -> None:
    organisation = _post(client, world, "/v1/organisations", {"name": "Org", "kind": kind}).json()
    response = _post(
        client,
        world,
        f"/v1/organisations/{organisation['id']}/clients",
        {"name": "client", "roles": roles},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_roles"
    assert response.json()["errors"][0]["field"] == "roles.0"


def test_client_secret_is_shown_once_and_listed_without_it(
    client: TestClient, world: World
) -> None:
    url = f"/v1/organisations/{world.agency.organisation_id}/clients"
    body = {"name": "case system", "roles": ["agency"]}
    # The council has its own administrator, who makes its clients.
    created = client.post(url, json=body, headers=world.org_admin.headers).json()
    assert created["client_secret"].startswith("jtai_")
    assert len(created["client_secret"]) >= 43
    listed = client.get(url, headers=world.operator.headers).json()
    assert created["client_id"] in {c["client_id"] for c in listed}
    assert "client_secret" not in str(listed)
    assert created["client_secret"] not in str(listed)


def test_organisations_are_paged_and_filtered(client: TestClient, world: World) -> None:
    page = client.get(
        "/v1/organisations", params={"limit": 2}, headers=world.operator.headers
    ).json()
    assert len(page["items"]) == 2
    assert page["next_offset"] == 2
    ofsted = client.get(
        "/v1/organisations", params={"kind": "ofsted"}, headers=world.operator.headers
    ).json()
    assert {item["kind"] for item in ofsted["items"]} == {"ofsted"}
    too_big = client.get(
        "/v1/organisations", params={"limit": 100000}, headers=world.operator.headers
    )
    assert too_big.status_code == 422


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"theme": "neglect"}, "body.theme", "unknown_theme"),
        ({"notification_at": "2027-01-12T09:00:00"}, "body.notification_at", "timezone_aware"),
        ({"local_authority_id": None}, "body.local_authority_id", "not_a_local_authority"),
    ],
)
def test_inspection_input_is_checked(
    client: TestClient, world: World, change: dict[str, Any], field: str, code: str
) -> None:
    body = {
        "area_name": "Somewhere",
        "local_authority_id": str(world.agency.organisation_id),
        "theme": "mental-health",
        "notification_at": "2027-01-11T09:00:00+00:00",
    } | change
    if "local_authority_id" in change:
        body["local_authority_id"] = str(world.inspector.organisation_id)  # CQC, not a council
    response = _post(client, world, "/v1/inspections", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert response.json()["errors"][0]["code"] == code


def test_participants_lead_and_status(client: TestClient, world: World, factory: Factory) -> None:
    url = f"/v1/inspections/{world.inspection_id}"
    police = factory.organisation(OrganisationKind.POLICE)
    added = client.put(f"{url}/participants/{police}", headers=world.operator.headers)
    again = client.put(f"{url}/participants/{police}", headers=world.operator.headers)
    assert added.status_code == again.status_code == 200
    kinds = [p["kind"] for p in again.json()["participants"]]
    assert kinds.count("police") == 1
    removing_council = client.delete(
        f"{url}/participants/{world.agency.organisation_id}", headers=world.operator.headers
    )
    assert removing_council.status_code == 409
    removing_lead_org = client.delete(
        f"{url}/participants/{world.lead.organisation_id}", headers=world.operator.headers
    )
    assert removing_lead_org.status_code == 409
    assert (
        client.delete(f"{url}/participants/{police}", headers=world.operator.headers).status_code
        == 204
    )
    assert client.get(url, headers=world.operator.headers).json()["participants"]
    not_a_lead = client.put(
        f"{url}/lead",
        json={"client_id": str(world.inspector.client_id)},
        headers=world.operator.headers,
    )
    assert not_a_lead.status_code == 422
    assert not_a_lead.json()["errors"][0]["code"] == "not_a_lead_inspector"
    new_lead = factory.actor(OrganisationKind.OFSTED, [Role.LEAD_INSPECTOR])
    named = client.put(
        f"{url}/lead", json={"client_id": str(new_lead.client_id)}, headers=world.operator.headers
    )
    assert named.json()["lead_client_id"] == str(new_lead.client_id)
    # The old lead no longer leads: the new one moves the status.
    assert (
        client.put(
            f"{url}/status", json={"status": "fieldwork"}, headers=world.lead.headers
        ).status_code
        == 403
    )
    for status in ("fieldwork", "reporting", "closed"):
        moved = client.put(f"{url}/status", json={"status": status}, headers=new_lead.headers)
        assert moved.json()["status"] == status
    backwards = client.put(f"{url}/status", json={"status": "notified"}, headers=new_lead.headers)
    assert backwards.status_code == 409
    assert backwards.json()["code"] == "inspection_closed"


@pytest.mark.parametrize("offset", ["187766647288384389120", "-1", "10000001"])
def test_absurd_offsets_are_422_not_500(client: TestClient, world: World, offset: str) -> None:
    response = client.get(
        "/v1/inspections", params={"offset": offset}, headers=world.operator.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.offset"


@pytest.mark.parametrize(("theme", "status"), [("mental-health", 422), ("domestic-abuse", 200)])
def test_probation_takes_part_only_where_the_theme_has_it_in_scope(
    client: TestClient, factory: Factory, theme: str, status: int
) -> None:
    """Mental health para 22: probation services are out of scope and are not notified."""
    world = factory.world(theme)
    probation = factory.organisation(OrganisationKind.PROBATION)
    response = client.put(
        f"/v1/inspections/{world.inspection_id}/participants/{probation}",
        headers=world.operator.headers,
    )
    assert response.status_code == status
    if status == 422:
        problem = response.json()
        assert problem["code"] == "out_of_theme_scope"
        assert "para 22" in problem["errors"][0]["message"]


@pytest.mark.parametrize(
    ("theme", "notified", "warned"),
    [
        ("mental-health", "2027-03-22T09:00:00+00:00", False),  # a Monday, para 29
        ("mental-health", "2027-03-23T09:00:00+00:00", True),
        ("domestic-abuse", "2027-03-23T09:00:00+00:00", False),  # a Tuesday, para 14
        ("domestic-abuse", "2027-03-22T09:00:00+00:00", True),
    ],
)
def test_a_notification_off_the_themes_day_is_opened_with_a_warning(
    client: TestClient, world: World, theme: str, notified: str, warned: bool
) -> None:
    body = {
        "area_name": "Elsewhere",
        "local_authority_id": str(world.agency.organisation_id),
        "theme": theme,
        "notification_at": notified,
    }
    response = client.post("/v1/inspections", json=body, headers=world.operator.headers)
    assert response.status_code == 201
    codes = [warning["code"] for warning in response.json()["warnings"]]
    assert codes == (["notification_day_not_theme_day"] if warned else [])
