"""An organisation's own administrators manage its clients; the operator cannot mint itself
credentials where one exists, and every credential event is listed to the administrators."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth.roles import Role
from app.organisations.kinds import OrganisationKind
from tests.factories import Actor, Factory, World
from tests.list_rows import cin_row


def _clients(organisation_id: uuid.UUID) -> str:
    return f"/v1/organisations/{organisation_id}/clients"


def _events(organisation_id: uuid.UUID) -> str:
    return f"/v1/organisations/{organisation_id}/credential-events"


def _token(client: TestClient, credentials: dict[str, Any]) -> dict[str, str]:
    response = client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(str(credentials["client_id"]), credentials["client_secret"]),
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _refused_as_administered(response: Any) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "organisation_has_administrator"


def test_an_administrator_holds_no_scope_of_an_inspection(client: TestClient, world: World) -> None:
    me = client.get("/v1/me", headers=world.org_admin.headers).json()
    assert me["roles"] == ["org_admin"]
    assert me["organisation"]["id"] == str(world.agency.organisation_id)
    # and its own events (credential changes): the feed and webhooks are every role's
    assert set(me["scopes"]) == {
        "clients:manage",
        "themes:read",
        "events:read",
        "webhooks:manage",
    }


def test_an_administrator_creates_rotates_and_disables_its_organisations_clients(
    client: TestClient, world: World
) -> None:
    admin = world.org_admin.headers
    url = _clients(world.agency.organisation_id)
    made = client.post(url, json={"name": "case system", "roles": ["agency"]}, headers=admin)
    assert made.status_code == 201
    system = made.json()
    assert _token(client, system)
    rotated = client.post(f"/v1/clients/{system['client_id']}/secret", headers=admin)
    assert rotated.status_code == 200
    assert rotated.json()["client_secret"] != system["client_secret"]
    disabled = client.post(f"/v1/clients/{system['client_id']}/disable", headers=admin)
    assert disabled.status_code == 200
    assert disabled.json()["disabled_at"] is not None
    listed = client.get(url, headers=admin).json()
    assert system["client_id"] in {c["client_id"] for c in listed}
    # A second administrator, and its own secret: an administrator's own clients, itself too.
    second = client.post(url, json={"name": "deputy", "roles": ["org_admin"]}, headers=admin)
    assert second.status_code == 201
    own = client.post(f"/v1/clients/{world.org_admin.client_id}/secret", headers=admin)
    assert own.status_code == 200
    assert _token(client, own.json())


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/organisations/{org}/clients"),
        ("GET", "/v1/organisations/{org}/clients"),
        ("GET", "/v1/organisations/{org}/credential-events"),
        ("POST", "/v1/clients/{client}/secret"),
        ("POST", "/v1/clients/{client}/disable"),
    ],
)
def test_another_organisations_clients_answer_an_administrator_404(
    client: TestClient, world: World, method: str, path: str
) -> None:
    """Exactly as if they did not exist: the same answer as for an unknown id."""
    theirs = world.other_area_agency
    body = {"name": "mine now", "roles": ["agency"]} if method == "POST" else None

    def ask(org: uuid.UUID, client_id: uuid.UUID) -> Any:
        url = path.format(org=org, client=client_id)
        return client.request(method, url, json=body, headers=world.org_admin.headers)

    foreign = ask(theirs.organisation_id, theirs.client_id)
    unknown = ask(uuid.uuid4(), uuid.uuid4())
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["detail"] == unknown.json()["detail"]
    # And nothing changed: the other council's client still works with its secret.
    assert _token(client, {"client_id": theirs.client_id, "client_secret": theirs.secret})


def test_the_operator_cannot_create_or_rotate_credentials_where_an_administrator_exists(
    client: TestClient, world: World
) -> None:
    operator = world.operator.headers
    url = _clients(world.agency.organisation_id)
    for roles in (["agency"], ["org_admin"]):  # a second administrator would mint for it
        _refused_as_administered(
            client.post(url, json={"name": "mine", "roles": roles}, headers=operator)
        )
    for target in (world.agency, world.org_admin):  # nor take over a client, the admin too
        _refused_as_administered(
            client.post(f"/v1/clients/{target.client_id}/secret", headers=operator)
        )
        assert _token(client, {"client_id": target.client_id, "client_secret": target.secret})
    listed = client.get(url, headers=world.org_admin.headers).json()
    assert {c["name"] for c in listed} == {"test client"}  # the council's own two, no more


def test_the_operator_cannot_mint_an_inspector_for_an_inspectorate_with_an_administrator(
    client: TestClient, world: World, factory: Factory
) -> None:
    """The issue's reproduction: an inspector minted by the operator read the lists."""
    factory.stored_list(world.inspection_id, "children-in-need", [cin_row("C1")])
    factory.actor(OrganisationKind.CQC, [Role.ORG_ADMIN], world.inspector.organisation_id)
    minted = client.post(
        _clients(world.inspector.organisation_id),
        json={"name": "operator's inspector", "roles": ["inspector"]},
        headers=world.operator.headers,
    )
    _refused_as_administered(minted)
    taken = client.post(
        f"/v1/clients/{world.inspector.client_id}/secret", headers=world.operator.headers
    )
    _refused_as_administered(taken)


def test_an_emergency_disable_by_the_operator_is_listed_to_the_administrators(
    client: TestClient, world: World
) -> None:
    disabled = client.post(
        f"/v1/clients/{world.agency.client_id}/disable", headers=world.operator.headers
    )
    assert disabled.status_code == 200
    assert client.get("/v1/me", headers=world.agency.headers).status_code == 401
    events = client.get(_events(world.agency.organisation_id), headers=world.org_admin.headers)
    assert events.status_code == 200
    [event] = events.json()["items"]
    assert event["action"] == "client.disabled"
    assert event["client_id"] == str(world.agency.client_id)
    assert event["actor_client_id"] == str(world.operator.client_id)
    assert event["by_operator"] is True


def test_the_operator_creates_an_organisation_and_its_first_administrator(
    client: TestClient, world: World
) -> None:
    operator = world.operator.headers
    made = client.post(
        "/v1/organisations", json={"name": "Newshire Police", "kind": "police"}, headers=operator
    )
    organisation_id = uuid.UUID(made.json()["id"])
    url = _clients(organisation_id)
    # The operator never makes a client that reads child data, even where nobody else can.
    refused = client.post(url, json={"name": "records", "roles": ["agency"]}, headers=operator)
    assert refused.status_code == 403
    assert refused.json()["code"] == "operator_cannot_mint_access"
    first = client.post(
        url, json={"name": "police admin", "roles": ["org_admin"]}, headers=operator
    )
    assert first.status_code == 201
    admin = _token(client, first.json())
    _refused_as_administered(
        client.post(url, json={"name": "late", "roles": ["agency"]}, headers=operator)
    )
    _refused_as_administered(
        client.post(f"/v1/clients/{first.json()['client_id']}/secret", headers=operator)
    )
    # The administrator takes its secret out of the operator's hands, and carries on.
    rotated = client.post(f"/v1/clients/{first.json()['client_id']}/secret", headers=admin)
    assert rotated.status_code == 200
    assert client.get("/v1/me", headers=admin).status_code == 401
    admin = _token(client, rotated.json())
    made_by_admin = client.post(
        url, json={"name": "new system", "roles": ["agency"]}, headers=admin
    )
    assert made_by_admin.status_code == 201
    page = client.get(_events(organisation_id), headers=admin).json()
    seen = [(e["action"], e["by_operator"], e["actor_client_id"]) for e in page["items"]]
    by_operator, by_admin = str(world.operator.client_id), first.json()["client_id"]
    assert seen == [
        ("client.created", True, by_operator),
        ("client.secret_rotated", False, by_admin),
        ("client.created", False, by_admin),
    ]
    assert page["items"][0]["roles"] == ["org_admin"]
    secrets = [first, rotated, made_by_admin]
    assert not any(r.json()["client_secret"] in str(page) for r in secrets)


def test_disabling_the_administrator_does_not_free_the_operator(
    client: TestClient, world: World
) -> None:
    """The operator may disable an administrator in an emergency, but not then appoint its
    own: an organisation that has had an administrator gets a new one from its other
    administrators, or from `jtai admin create-admin` on the server."""
    operator = world.operator.headers
    disabled = client.post(f"/v1/clients/{world.org_admin.client_id}/disable", headers=operator)
    assert disabled.status_code == 200
    replacement = client.post(
        _clients(world.agency.organisation_id),
        json={"name": "new admin", "roles": ["org_admin"]},
        headers=operator,
    )
    _refused_as_administered(replacement)
    lead_takeover = client.post(f"/v1/clients/{world.agency.client_id}/secret", headers=operator)
    _refused_as_administered(lead_takeover)


def test_the_operator_neither_mints_nor_rotates_in_an_organisation_of_its_own_making(
    client: TestClient, world: World
) -> None:
    """The attacker's pass: a shadow inspectorate, an inspector made there, named to a team."""
    operator = world.operator.headers
    shadow = client.post(
        "/v1/organisations", json={"name": "Ofsted (shadow)", "kind": "ofsted"}, headers=operator
    ).json()
    minted = client.post(
        _clients(uuid.UUID(shadow["id"])),
        json={"name": "shadow", "roles": ["inspector", "lead_inspector"]},
        headers=operator,
    )
    assert minted.status_code == 403
    assert minted.json()["code"] == "operator_cannot_mint_access"
    # Nor an existing agency's system without an administrator: rotating hands the secret over.
    health = client.post(
        "/v1/organisations", json={"name": "Health", "kind": "health"}, headers=operator
    ).json()
    assert (
        client.post(
            _clients(uuid.UUID(health["id"])),
            json={"name": "h", "roles": ["agency"]},
            headers=operator,
        ).status_code
        == 403
    )
    rotated = client.post(f"/v1/clients/{world.inspector.client_id}/secret", headers=operator)
    assert rotated.status_code == 403
    assert rotated.json()["code"] == "operator_cannot_mint_access"


def test_the_operator_still_creates_operators(client: TestClient, world: World) -> None:
    made = client.post(
        _clients(world.operator.organisation_id),
        json={"name": "second desk", "roles": ["operator"]},
        headers=world.operator.headers,
    )
    assert made.status_code == 201
    # The platform has no administrators: nobody but the operator manages its clients.
    refused = client.post(
        _clients(world.operator.organisation_id),
        json={"name": "platform admin", "roles": ["org_admin"]},
        headers=world.operator.headers,
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_roles"


def test_credential_events_are_paged_and_kept_to_their_organisation(
    client: TestClient, world: World, factory: Factory
) -> None:
    admin = world.org_admin.headers
    url = _clients(world.agency.organisation_id)
    for number in range(3):
        made = client.post(
            url, json={"name": f"system {number}", "roles": ["agency"]}, headers=admin
        )
        assert made.status_code == 201
    # Another council's events are not the council's.
    other = client.post(
        f"/v1/clients/{world.other_area_agency.client_id}/disable", headers=world.operator.headers
    )
    assert other.status_code == 200
    first = client.get(_events(world.agency.organisation_id), params={"limit": 2}, headers=admin)
    assert first.json()["total"] == 3
    assert first.json()["next_offset"] == 2
    rest = client.get(
        _events(world.agency.organisation_id), params={"limit": 2, "offset": 2}, headers=admin
    ).json()
    assert rest["next_offset"] is None
    items = first.json()["items"] + rest["items"]
    assert [item["seq"] for item in items] == sorted(item["seq"] for item in items)
    assert {item["action"] for item in items} == {"client.created"}
    assert all(item["actor_client_id"] == str(world.org_admin.client_id) for item in items)
    # The operator sees them too; nobody else holds the scope.
    as_operator = client.get(_events(world.agency.organisation_id), headers=world.operator.headers)
    assert as_operator.json()["total"] == 3
    as_agency = client.get(_events(world.agency.organisation_id), headers=world.agency.headers)
    assert as_agency.status_code == 403


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/lists/children-in-need", 403),
        ("/lists/children-in-need/versions", 403),
        ("/children/C1", 403),
        ("/selections/tracked", 403),
        ("/audit", 403),
        ("/children/C1/tracking", 404),
    ],
)
def test_an_administrator_reads_no_child_data_of_its_organisations_inspection(
    client: TestClient, world: World, factory: Factory, path: str, status: int
) -> None:
    factory.stored_list(
        world.inspection_id, "children-in-need", [cin_row("C1")], world.agency.organisation_id
    )
    factory.selection(world.inspection_id, "tracked", ["C1"])
    url = f"/v1/inspections/{world.inspection_id}{path}"
    response = client.get(url, headers=world.org_admin.headers)
    assert response.status_code == status
    problem = response.json()
    assert problem.pop("instance") == url  # the path asked, echoed
    assert "C1" not in str(problem)


def test_an_administrator_reads_no_document_of_its_organisation(
    client: TestClient, world: World, factory: Factory
) -> None:
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    document_id = factory.document(world.agency, request_id)
    for suffix in ("", "/content"):
        response = client.get(
            f"/v1/documents/{document_id}{suffix}", headers=world.org_admin.headers
        )
        assert response.status_code == 403


def test_an_administrator_of_another_kind_is_an_administrator_there_only(
    client: TestClient, factory: Factory
) -> None:
    """An administrator made for an inspectorate manages that inspectorate alone."""
    ofsted_admin: Actor = factory.actor(OrganisationKind.OFSTED, [Role.ORG_ADMIN])
    made = client.post(
        _clients(ofsted_admin.organisation_id),
        json={"name": "inspector", "roles": ["inspector"]},
        headers=ofsted_admin.headers,
    )
    assert made.status_code == 201
    wrong_kind = client.post(
        _clients(ofsted_admin.organisation_id),
        json={"name": "agency", "roles": ["agency"]},
        headers=ofsted_admin.headers,
    )
    assert wrong_kind.status_code == 422
