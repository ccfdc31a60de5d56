"""Inspection teams: an inspector reads an inspection only while named to its team."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.auth.roles import Role
from app.organisations.kinds import OrganisationKind
from tests.factories import Actor, Factory, World
from tests.list_rows import cin_row


def _team_path(world: World, actor: Actor | None = None) -> str:
    path = f"/v1/inspections/{world.inspection_id}/team"
    return path if actor is None else f"{path}/{actor.client_id}"


def _what_an_inspector_reads(world: World, factory: Factory) -> list[str]:
    """The inspection, a list, a health agency's document: what the issue's reproduction read."""
    base = f"/v1/inspections/{world.inspection_id}"
    factory.stored_list(world.inspection_id, "children-in-need", [cin_row("C1")])
    health = factory.actor_in(world, "health")
    document = factory.document(
        health, factory.document_request(world.inspection_id, health.organisation_id)
    )
    return [base, f"{base}/lists/children-in-need", f"/v1/documents/{document}/content"]


def _statuses(client: TestClient, paths: list[str], actor: Actor) -> list[int]:
    return [client.get(path, headers=actor.headers).status_code for path in paths]


def test_an_inspector_of_a_taking_part_inspectorate_reads_only_while_on_the_team(
    client: TestClient, factory: Factory, world: World
) -> None:
    paths = _what_an_inspector_reads(world, factory)
    newcomer = factory.actor(
        OrganisationKind.CQC, [Role.INSPECTOR], world.inspector.organisation_id
    )
    assert _statuses(client, paths, newcomer) == [404, 404, 404]
    assert client.get("/v1/inspections", headers=newcomer.headers).json()["items"] == []

    named = client.put(_team_path(world, newcomer), headers=world.lead.headers)
    assert named.status_code == 200
    assert named.json()["principal_id"] == str(newcomer.client_id)
    assert _statuses(client, paths, newcomer) == [200, 200, 200]

    removed = client.delete(_team_path(world, newcomer), headers=world.lead.headers)
    assert removed.status_code == 204
    assert _statuses(client, paths, newcomer) == [404, 404, 404]


def test_the_team_lists_the_lead_and_the_named(client: TestClient, world: World) -> None:
    team = client.get(_team_path(world), headers=world.agency.headers).json()
    by_id = {member["principal_id"]: member for member in team}
    assert set(by_id) == {str(world.lead.client_id), str(world.inspector.client_id)}
    assert by_id[str(world.lead.client_id)]["is_lead"] is True
    assert by_id[str(world.inspector.client_id)]["organisation_kind"] == "cqc"
    missing = client.get(_team_path(world, world.off_team_inspector), headers=world.lead.headers)
    assert missing.status_code == 404


def test_team_changes_are_audited(client: TestClient, factory: Factory, world: World) -> None:
    client.put(_team_path(world, world.off_team_inspector), headers=world.lead.headers)
    client.delete(_team_path(world, world.off_team_inspector), headers=world.lead.headers)
    audit = client.get(
        f"/v1/inspections/{world.inspection_id}/audit", headers=world.lead.headers
    ).json()
    actions = [
        (event["action"], event["object_id"])
        for event in audit["items"]
        if event["action"].startswith("inspection.team_member")
    ]
    member = str(world.off_team_inspector.client_id)
    assert ("inspection.team_member_added", member) in actions
    assert ("inspection.team_member_removed", member) in actions


def test_the_lead_cannot_be_taken_off_the_team(client: TestClient, world: World) -> None:
    response = client.delete(_team_path(world, world.lead), headers=world.operator.headers)
    assert response.status_code == 409
    assert response.json()["code"] == "cannot_remove_lead"


def _refusal(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def test_only_inspectors_join_a_team(client: TestClient, factory: Factory, world: World) -> None:
    response = client.put(_team_path(world, world.agency), headers=world.lead.headers)
    assert _refusal(response) == (422, "not_an_inspector")
    assert response.json()["errors"][0]["field"] == "path.principal_id"
    unknown = client.put(
        f"{_team_path(world)}/00000000-0000-4000-8000-000000000000", headers=world.lead.headers
    )
    assert unknown.status_code == 404


def test_the_lead_names_only_inspectors_of_inspectorates_taking_part(
    client: TestClient, factory: Factory, world: World
) -> None:
    police_inspector = factory.actor(OrganisationKind.HMICFRS, [Role.INSPECTOR])
    by_lead = client.put(_team_path(world, police_inspector), headers=world.lead.headers)
    assert _refusal(by_lead) == (422, "organisation_not_participating")
    # The operator may: the inspectorate joins the inspection with its inspector.
    by_operator = client.put(_team_path(world, police_inspector), headers=world.operator.headers)
    assert by_operator.status_code == 200
    inspection = client.get(
        f"/v1/inspections/{world.inspection_id}", headers=police_inspector.headers
    ).json()
    assert str(police_inspector.organisation_id) in {
        participant["organisation_id"] for participant in inspection["participants"]
    }


def test_removing_an_inspectorate_takes_its_inspectors_off_the_team(
    client: TestClient, factory: Factory, world: World
) -> None:
    inspectorate = world.inspector.organisation_id
    response = client.delete(
        f"/v1/inspections/{world.inspection_id}/participants/{inspectorate}",
        headers=world.operator.headers,
    )
    assert response.status_code == 204
    team = client.get(_team_path(world), headers=world.lead.headers).json()
    assert [member["principal_id"] for member in team] == [str(world.lead.client_id)]
    # Taking part again does not put anyone back on the team.
    factory.add_participant(world.inspection_id, inspectorate)
    gone = client.get(f"/v1/inspections/{world.inspection_id}", headers=world.inspector.headers)
    assert gone.status_code == 404


def test_the_operator_names_the_team_when_opening(
    client: TestClient, factory: Factory, world: World
) -> None:
    ofsted_inspector = factory.actor(OrganisationKind.OFSTED, [Role.INSPECTOR])
    body = {
        "area_name": "Elsewhere",
        "local_authority_id": str(world.agency.organisation_id),
        "theme": "domestic-abuse",
        "notification_at": "2027-01-12T09:00:00+00:00",
        "team": [str(ofsted_inspector.client_id)],
    }
    created = client.post("/v1/inspections", json=body, headers=world.operator.headers)
    assert created.status_code == 201
    inspection_id = created.json()["id"]
    seen = client.get(f"/v1/inspections/{inspection_id}", headers=ofsted_inspector.headers)
    assert seen.status_code == 200
    refused = client.post(
        "/v1/inspections",
        json=body | {"team": [str(world.agency.client_id)]},
        headers=world.operator.headers,
    )
    assert _refusal(refused) == (422, "not_an_inspector")
    assert refused.json()["errors"][0]["field"] == "body.team.0"
    # Nothing half-opened stays: the refused inspection is not there.
    listed = client.get("/v1/inspections", headers=world.operator.headers).json()
    assert listed["total"] == 3
