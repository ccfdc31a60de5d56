"""The whole access matrix: every operation, as every kind of caller.

401 without a valid token, 403 for a role that may never do it, 404 for an inspection or
object the caller does not take part in, success for those the policy lets through.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.auth.issuers import token_decoder
from app.auth.policy import POLICY
from app.auth.principal import person_id
from app.auth.roles import Role
from app.auth.service import principal_for_client
from app.core.config import Settings
from app.core.database import session_scope
from app.core.edge import flat_routes
from app.inspections.models import Inspection, InspectionStatus
from app.organisations.kinds import OrganisationKind
from app.webhooks.address import AddressRules
from app.webhooks.service import NewWebhook, create_webhook
from tests.auth.identity_provider import IdpKey, jwks, person_claims
from tests.core.test_contract import PUBLIC_OPERATIONS
from tests.factories import PDF, Factory, World
from tests.list_rows import cin_row

ACTORS = (
    "operator",
    "lead",
    "inspector",
    "person",
    "off_team_inspector",
    "outside_inspector",
    "agency",
    "other_area_agency",
    "org_admin",
)
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Call:
    method: str
    path: Callable[[World, Factory], str]
    body: Callable[[World, Factory], Any] | None = None
    files: dict[str, Any] | None = None
    content: bytes | None = None


def _ok_for(allowed: dict[str, int], default: int = 403) -> dict[str, int]:
    # The council's administrator holds no scope of an inspection, so is refused before its
    # organisation's part in one is looked at: 403 unless the entry says otherwise.
    expected = dict.fromkeys(ACTORS, default) | {"org_admin": 403} | allowed
    # A person signed in with CQC's identity provider and named to the team, a colleague of
    # world.inspector: a person holds what a system of the same roles and place holds.
    expected["person"] = allowed.get("person", expected["inspector"])
    expected[ANONYMOUS] = 401
    return expected


def _spare_client(world: World, factory: Factory) -> str:
    """Another client of the council, which has its own administrator."""
    actor = factory.actor(
        OrganisationKind.LOCAL_AUTHORITY, [Role.AGENCY], world.agency.organisation_id
    )
    return str(actor.client_id)


def _spare_participant(world: World, factory: Factory) -> str:
    organisation = factory.organisation(OrganisationKind.SCHOOL)
    factory.add_participant(world.inspection_id, organisation)
    return str(organisation)


INSPECTION = "/v1/inspections/{}"


def _spare_team_member(world: World, factory: Factory) -> str:
    """A CQC inspector put on the team for this call (each caller takes off its own)."""
    member = factory.actor(OrganisationKind.CQC, [Role.INSPECTOR], world.inspector.organisation_id)
    factory.team_member(world.inspection_id, member)
    return INSPECTION.format(world.inspection_id) + f"/team/{member.client_id}"


def _stored_list(world: World, factory: Factory) -> str:
    factory.stored_list(world.inspection_id, "children-in-need", [cin_row("C1")])
    return INSPECTION.format(world.inspection_id) + "/lists/children-in-need"


def _tracked_child(world: World, factory: Factory) -> str:
    factory.stored_list(world.inspection_id, "children-in-need", [cin_row("C1")])
    factory.selection(world.inspection_id, "tracked", ["C1"])
    return INSPECTION.format(world.inspection_id) + "/children/C1"


PDF_FORM = {"file": ("report.pdf", PDF, "application/pdf")}


def _council_request(world: World, factory: Factory) -> uuid.UUID:
    return factory.document_request(world.inspection_id, world.agency.organisation_id)


def _council_document(world: World, factory: Factory) -> uuid.UUID:
    return factory.document(world.agency, _council_request(world, factory))


def _open_upload(world: World, factory: Factory) -> str:
    """An upload the council's client started (other callers' attempts must not see it)."""
    return f"/v1/uploads/{factory.upload(world.agency, _council_request(world, factory))}"


def _tracked(world: World, factory: Factory) -> str:
    factory.selection(world.inspection_id, "tracked", ["C1", "C2", "C3", "C4", "C5"])
    return INSPECTION.format(world.inspection_id) + "/selections/tracked"


def _evaluated_child(world: World, factory: Factory) -> str:
    path = _tracked_child(world, factory)
    factory.evaluation(world.agency, world.inspection_id, "C1")
    return path + "/evaluations"


def _joint_evaluation(world: World, factory: Factory) -> dict[str, Any]:
    questions = factory.state.themes.get("mental-health").evaluation.questions
    return {
        "answers": dict.fromkeys(questions, "Answered."),
        "contributing_organisation_ids": [str(world.agency.organisation_id)],
    }


def _meeting_body(world: World, factory: Factory) -> dict[str, Any]:
    return {
        "kind": "strategy-discussion",
        "starts_at": "2027-04-05T10:00:00+01:00",
        "ends_at": "2027-04-05T11:00:00+01:00",
        "place": "Town hall",
    }


def _meeting(world: World, factory: Factory) -> str:
    meeting_id = factory.meeting(world.agency, world.inspection_id)
    return INSPECTION.format(world.inspection_id) + f"/meetings/{meeting_id}"


def _engaged_child(world: World, factory: Factory) -> str:
    path = _tracked_child(world, factory)
    factory.engagement(world.agency, world.inspection_id, "C1")
    return path + "/engagement"


# Who reads what every participant reads; the operator never reads child data.
_PARTICIPANTS_READ = {"lead": 200, "inspector": 200, "agency": 200, "operator": 403}


def _council_webhook(world: World, factory: Factory) -> str:
    """A webhook of the council, subscribed by its agency client."""
    with session_scope(factory.state.session_factory) as session:
        principal = principal_for_client(session, world.agency.client_id)
        new = NewWebhook("http://127.0.0.1:9/hook", ["request.opened"])
        webhook, _secret = create_webhook(session, principal, new, AddressRules(True, True))
        return f"/v1/webhooks/{webhook.id}"


# Every organisation's systems manage their own webhooks; the operator none. A person may read
# the organisation's, but only systems subscribe (403 webhooks_for_systems).
_SUBSCRIBERS = dict.fromkeys(ACTORS, 200) | {"operator": 403}


def _council_webhook_call(status: int, admin: bool = True) -> dict[str, int]:
    """The council agency's webhook: its own client's, and (seeing, retiring it, not reading
    what it was told) the council's administrator's."""
    return _ok_for(
        {"agency": status, "org_admin": status if admin else 404, "operator": 403, "person": 404},
        default=404,
    )


MATRIX: dict[str, tuple[Call, dict[str, int]]] = {
    "read_me": (Call("GET", lambda w, f: "/v1/me"), _ok_for(dict.fromkeys(ACTORS, 200))),
    # every caller reads its own feed; what is in it is tested in tests/events
    "list_events": (Call("GET", lambda w, f: "/v1/events"), _ok_for(dict.fromkeys(ACTORS, 200))),
    "create_organisation": (
        Call(
            "POST", lambda w, f: "/v1/organisations", lambda w, f: {"name": "X", "kind": "police"}
        ),
        _ok_for({"operator": 201}),
    ),
    "list_organisations": (
        Call("GET", lambda w, f: "/v1/organisations"),
        _ok_for({"operator": 200}),
    ),
    "get_organisation": (
        Call("GET", lambda w, f: f"/v1/organisations/{w.agency.organisation_id}"),
        _ok_for({"operator": 200}),
    ),
    "create_client": (
        Call(
            "POST",
            lambda w, f: f"/v1/organisations/{w.agency.organisation_id}/clients",
            lambda w, f: {"name": "system", "roles": ["agency"]},
        ),
        # The council has an administrator: it creates the council's clients, the operator
        # may not (403 organisation_has_administrator).
        _ok_for({"org_admin": 201, "operator": 403}),
    ),
    "list_clients": (
        Call("GET", lambda w, f: f"/v1/organisations/{w.agency.organisation_id}/clients"),
        _ok_for({"org_admin": 200, "operator": 200}),
    ),
    "disable_client": (
        Call("POST", lambda w, f: f"/v1/clients/{_spare_client(w, f)}/disable"),
        # The operator may disable any client, in an emergency.
        _ok_for({"org_admin": 200, "operator": 200}),
    ),
    "rotate_client_secret": (
        Call("POST", lambda w, f: f"/v1/clients/{_spare_client(w, f)}/secret"),
        _ok_for({"org_admin": 200, "operator": 403}),
    ),
    "list_credential_events": (
        Call("GET", lambda w, f: f"/v1/organisations/{w.agency.organisation_id}/credential-events"),
        _ok_for({"org_admin": 200, "operator": 200}),
    ),
    "create_inspection": (
        Call(
            "POST",
            lambda w, f: "/v1/inspections",
            lambda w, f: {
                "area_name": "Elsewhere",
                "local_authority_id": str(w.agency.organisation_id),
                "theme": "domestic-abuse",
                "notification_at": "2027-01-12T09:00:00+00:00",
            },
        ),
        _ok_for({"operator": 201}),
    ),
    "list_inspections": (
        Call("GET", lambda w, f: "/v1/inspections"),
        _ok_for(dict.fromkeys(ACTORS, 200) | {"org_admin": 403}),
    ),
    "get_inspection": (
        Call("GET", lambda w, f: INSPECTION.format(w.inspection_id)),
        _ok_for(
            {"operator": 200, "lead": 200, "inspector": 200, "agency": 200},
            default=404,
        ),
    ),
    "add_participant": (
        Call(
            "PUT",
            lambda w, f: (
                INSPECTION.format(w.inspection_id)
                + f"/participants/{f.organisation(OrganisationKind.HEALTH)}"
            ),
        ),
        _ok_for({"operator": 200}),
    ),
    "remove_participant": (
        Call(
            "DELETE",
            lambda w, f: (
                INSPECTION.format(w.inspection_id) + f"/participants/{_spare_participant(w, f)}"
            ),
        ),
        _ok_for({"operator": 204}),
    ),
    "set_lead_inspector": (
        Call(
            "PUT",
            lambda w, f: INSPECTION.format(w.inspection_id) + "/lead",
            lambda w, f: {"client_id": str(w.lead.client_id)},
        ),
        _ok_for({"operator": 200}),
    ),
    "list_team": (
        Call("GET", lambda w, f: INSPECTION.format(w.inspection_id) + "/team"),
        _ok_for(
            {"operator": 200, "lead": 200, "inspector": 200, "agency": 200},
            default=404,
        ),
    ),
    "get_team_member": (
        Call(
            "GET",
            lambda w, f: INSPECTION.format(w.inspection_id) + f"/team/{w.inspector.client_id}",
        ),
        _ok_for(
            {"operator": 200, "lead": 200, "inspector": 200, "agency": 200},
            default=404,
        ),
    ),
    "add_team_member": (
        Call(
            "PUT",
            lambda w, f: (
                INSPECTION.format(w.inspection_id) + f"/team/{w.off_team_inspector.client_id}"
            ),
        ),
        # Naming one already on the team changes nothing: the operator's call after the lead's.
        _ok_for({"lead": 200, "operator": 200}),
    ),
    "remove_team_member": (
        Call("DELETE", _spare_team_member),
        _ok_for({"lead": 204, "operator": 204}),
    ),
    "update_inspection_status": (
        Call(
            "PUT",
            lambda w, f: INSPECTION.format(w.inspection_id) + "/status",
            lambda w, f: {"status": "fieldwork"},
        ),
        # The lead moves it first; the operator then asks for the same step again: 409.
        _ok_for({"lead": 200, "operator": 409}),
    ),
    "list_themes": (
        Call("GET", lambda w, f: "/v1/themes"),
        _ok_for(dict.fromkeys(ACTORS, 200)),
    ),
    "get_theme": (
        Call("GET", lambda w, f: "/v1/themes/domestic-abuse"),
        _ok_for(dict.fromkeys(ACTORS, 200)),
    ),
    "get_schedule": (
        Call("GET", lambda w, f: INSPECTION.format(w.inspection_id) + "/schedule"),
        _ok_for(
            {"operator": 200, "lead": 200, "inspector": 200, "agency": 200},
            default=404,
        ),
    ),
    "get_schedule_calendar": (
        Call("GET", lambda w, f: INSPECTION.format(w.inspection_id) + "/schedule.ics"),
        _ok_for(
            {"operator": 200, "lead": 200, "inspector": 200, "agency": 200},
            default=404,
        ),
    ),
    "move_milestone": (
        Call(
            "PUT",
            lambda w, f: INSPECTION.format(w.inspection_id) + "/schedule/documents",
            lambda w, f: {"due_at": "2027-04-02T12:00:00+01:00", "reason": "agreed by phone"},
        ),
        # Only the lead may: other inspectors and the operator lack the scope.
        _ok_for({"lead": 200}),
    ),
    "put_selection": (
        Call(
            "PUT",
            lambda w, f: INSPECTION.format(w.inspection_id) + "/selections/tracked",
            lambda w, f: {"child_ids": ["C1", "C2", "C3", "C4", "C5"]},
        ),
        # The lead gets through to validation: no lists have been pushed, so 422.
        _ok_for({"lead": 422}),
    ),
    "get_selection": (
        Call("GET", lambda w, f: _tracked(w, f)),
        # Selected children are child data: the operator never reads them.
        _ok_for(
            {"operator": 403, "lead": 200, "inspector": 200, "agency": 200},
            default=404,
        ),
    ),
    "push_list": (
        Call(
            "PUT",
            lambda w, f: INSPECTION.format(w.inspection_id) + "/lists/children-in-need",
            lambda w, f: {"rows": [cin_row("C1")]},
        ),
        # Agencies may push, but only into inspections their organisation takes part in.
        _ok_for({"agency": 201, "other_area_agency": 404}),
    ),
    "read_list": (
        Call("GET", lambda w, f: _stored_list(w, f)),
        _ok_for(
            {"lead": 200, "inspector": 200, "off_team_inspector": 404, "outside_inspector": 404}
        ),
    ),
    "list_versions": (
        Call("GET", lambda w, f: _stored_list(w, f) + "/versions"),
        _ok_for({"lead": 200, "inspector": 200, "agency": 200, "operator": 403}, default=404),
    ),
    "get_list_version": (
        Call("GET", lambda w, f: _stored_list(w, f) + "/versions/1"),
        _ok_for({"lead": 200, "inspector": 200, "agency": 200, "operator": 403}, default=404),
    ),
    "get_list_template": (
        Call(
            "GET",
            lambda w, f: (
                INSPECTION.format(w.inspection_id) + "/lists/children-in-need/template.xlsx"
            ),
        ),
        # Themes only: the council's administrator may read it too.
        _ok_for(
            {"lead": 200, "inspector": 200, "agency": 200, "operator": 200, "org_admin": 200},
            default=404,
        ),
    ),
    "get_child": (
        Call("GET", lambda w, f: _tracked_child(w, f)),
        _ok_for({"lead": 200, "inspector": 200, "agency": 200, "operator": 403}, default=404),
    ),
    "find_children": (
        Call("GET", lambda w, f: _stored_list(w, f).split("/lists/")[0] + "/children?q=C"),
        # Inspectors only, as a list's read: agencies and the operator 403.
        _ok_for(
            {"lead": 200, "inspector": 200, "off_team_inspector": 404, "outside_inspector": 404}
        ),
    ),
    "list_requests": (
        Call("GET", lambda w, f: INSPECTION.format(w.inspection_id) + "/requests"),
        _ok_for({"lead": 200, "inspector": 200, "agency": 200, "operator": 403}, default=404),
    ),
    "create_request": (
        Call(
            "POST",
            lambda w, f: INSPECTION.format(w.inspection_id) + "/requests",
            lambda w, f: {
                "organisation_id": str(f.actor_in(w, "health").organisation_id),
                "title": "Health records",
                "due_at": "2027-04-02T17:00:00+01:00",
            },
        ),
        # The lead asks any agency taking part; world.inspector is CQC's, which asks health.
        _ok_for(
            {"lead": 201, "inspector": 201, "off_team_inspector": 404, "outside_inspector": 404}
        ),
    ),
    "list_submissions": (
        Call("GET", lambda w, f: INSPECTION.format(w.inspection_id) + "/submissions"),
        _ok_for({"lead": 200, "inspector": 200, "agency": 200, "operator": 403}, default=404),
    ),
    "get_progress": (
        Call("GET", lambda w, f: _tracked_child(w, f).split("/children/")[0] + "/progress"),
        # Inspectors only: agencies read their own requests, the operator no child data.
        _ok_for(
            {"lead": 200, "inspector": 200, "off_team_inspector": 404, "outside_inspector": 404}
        ),
    ),
    "upload_document": (
        Call(
            "POST", lambda w, f: f"/v1/requests/{_council_request(w, f)}/documents", files=PDF_FORM
        ),
        _ok_for({"agency": 201, "other_area_agency": 404}),
    ),
    "create_upload": (
        Call(
            "POST",
            lambda w, f: f"/v1/requests/{_council_request(w, f)}/uploads",
            lambda w, f: {"filename": "a.pdf", "size": 100, "sha256": "0" * 64},
        ),
        _ok_for({"agency": 201, "other_area_agency": 404}),
    ),
    "upload_part": (
        Call("PUT", lambda w, f: _open_upload(w, f) + "/parts/1", content=b"%PDF-1.7 part"),
        _ok_for({"agency": 200, "other_area_agency": 404}),
    ),
    "complete_upload": (
        Call(
            "POST",
            lambda w, f: _open_upload(w, f) + "/complete",
            lambda w, f: {"parts": [{"part_number": 1, "etag": "nothing-sent"}]},
        ),
        # The caller's own upload gets through to verification; no parts were sent: 422.
        _ok_for({"agency": 422, "other_area_agency": 404}),
    ),
    "abort_upload": (
        Call("DELETE", lambda w, f: _open_upload(w, f)),
        _ok_for({"agency": 204, "other_area_agency": 404}),
    ),
    "record_nil_return": (
        Call(
            "POST",
            lambda w, f: f"/v1/requests/{_council_request(w, f)}/nil-return",
            lambda w, f: {"reason": "None held."},
        ),
        _ok_for({"agency": 201, "other_area_agency": 404}),
    ),
    "get_document": (
        Call("GET", lambda w, f: f"/v1/documents/{_council_document(w, f)}"),
        _ok_for({"lead": 200, "inspector": 200, "agency": 200, "operator": 403}, default=404),
    ),
    "download_document": (
        Call("GET", lambda w, f: f"/v1/documents/{_council_document(w, f)}/content"),
        _ok_for({"lead": 200, "inspector": 200, "agency": 200, "operator": 403}, default=404),
    ),
    "download_child_documents": (
        Call("GET", lambda w, f: _tracked_child(w, f) + "/documents.zip"),
        # Inspectors only: agencies read their own documents one by one, the operator none.
        _ok_for(
            {"lead": 200, "inspector": 200, "off_team_inspector": 404, "outside_inspector": 404}
        ),
    ),
    "list_inspection_audit": (
        Call("GET", lambda w, f: INSPECTION.format(w.inspection_id) + "/audit"),
        _ok_for({"operator": 200, "lead": 200}),
    ),
    "get_child_access_log": (
        Call("GET", lambda w, f: INSPECTION.format(w.inspection_id) + "/children/C1/access-log"),
        _ok_for({"lead": 200}),
    ),
    "verify_audit_chain": (
        Call("GET", lambda w, f: "/v1/audit/verify"),
        _ok_for({"operator": 200}),
    ),
    "put_evaluation": (
        Call("PUT", lambda w, f: _tracked_child(w, f) + "/evaluations/joint", _joint_evaluation),
        # world.agency is the inspection's local authority, which writes the joint evaluation.
        _ok_for({"agency": 200, "other_area_agency": 404}),
    ),
    "get_evaluation": (
        Call("GET", lambda w, f: _evaluated_child(w, f) + "/joint"),
        _ok_for(_PARTICIPANTS_READ, default=404),
    ),
    "list_evaluations": (
        Call("GET", _evaluated_child),
        _ok_for(_PARTICIPANTS_READ, default=404),
    ),
    "put_tracking": (
        Call(
            "PUT",
            lambda w, f: _tracked_child(w, f) + "/tracking",
            lambda w, f: {"summaries": {"referral_timely": {"summary": "Timely.", "esn": [23]}}},
        ),
        # Inspectors only; everyone else is not told tracking records exist (404).
        _ok_for({"lead": 200, "inspector": 200, "org_admin": 404}, default=404),
    ),
    "list_tracking": (
        Call("GET", lambda w, f: _tracked_child(w, f) + "/tracking"),
        _ok_for({"lead": 200, "inspector": 200, "org_admin": 404}, default=404),
    ),
    "create_meeting": (
        Call("POST", lambda w, f: INSPECTION.format(w.inspection_id) + "/meetings", _meeting_body),
        _ok_for({"agency": 201, "other_area_agency": 404}),
    ),
    "list_meetings": (
        Call("GET", lambda w, f: INSPECTION.format(w.inspection_id) + "/meetings"),
        _ok_for(_PARTICIPANTS_READ, default=404),
    ),
    "update_meeting": (
        Call("PUT", _meeting, _meeting_body),
        _ok_for({"agency": 200, "other_area_agency": 404}),
    ),
    "delete_meeting": (
        Call("DELETE", _meeting),
        _ok_for({"agency": 204, "other_area_agency": 404}),
    ),
    "put_engagement": (
        Call(
            "PUT",
            lambda w, f: _tracked_child(w, f) + "/engagement",
            lambda w, f: {"child_agreed": True},
        ),
        _ok_for({"agency": 200, "other_area_agency": 404}),
    ),
    "get_engagement": (
        Call("GET", _engaged_child),
        _ok_for(_PARTICIPANTS_READ, default=404),
    ),
    "create_webhook": (
        Call(
            "POST",
            lambda w, f: "/v1/webhooks",
            lambda w, f: {"url": "http://127.0.0.1:9/hook", "event_types": ["list.pushed"]},
        ),
        _ok_for(dict.fromkeys(ACTORS, 201) | {"operator": 403, "person": 403}),
    ),
    "list_webhooks": (Call("GET", lambda w, f: "/v1/webhooks"), _ok_for(_SUBSCRIBERS)),
    "get_webhook": (Call("GET", _council_webhook), _council_webhook_call(200)),
    "delete_webhook": (Call("DELETE", _council_webhook), _council_webhook_call(204)),
    "list_webhook_deliveries": (
        Call("GET", lambda w, f: _council_webhook(w, f) + "/deliveries"),
        _council_webhook_call(200, admin=False),
    ),
    "ping_webhook": (
        Call("POST", lambda w, f: _council_webhook(w, f) + "/ping"),
        _council_webhook_call(202, admin=False),
    ),
}

PersonOnTeam = Callable[[World], dict[str, str]]
PERSON_ISSUER = "https://login.cqc.example"
PERSON_AUDIENCE = "jtai-inspector-app"


@pytest.fixture
def person_on_team(
    app: FastAPI, client: TestClient, factory: Factory, tmp_path: Path, monkeypatch: Any
) -> PersonOnTeam:
    """Headers of a person of CQC's identity provider (its JWKS in a file) whom the lead has
    named to the world's team; the app trusts that issuer for this test only."""
    key = IdpKey.ec("matrix-key")
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_bytes(jwks(key))

    def sign_in(world: World) -> dict[str, str]:
        state = app.state.jtai
        issuer = {
            "issuer": PERSON_ISSUER,
            "jwks_file": str(jwks_file),
            "audience": PERSON_AUDIENCE,
            "algorithms": ["ES256"],
            "organisation_id": str(world.inspector.organisation_id),
            "roles": {"jtai-inspector": "inspector"},
        }
        settings = Settings(
            **state.settings.model_dump(exclude={"trusted_issuers"}), trusted_issuers=[issuer]
        )
        monkeypatch.setattr(state, "settings", settings)
        monkeypatch.setattr(state, "decoder", token_decoder(settings, state.tokens))
        token = key.sign(person_claims(PERSON_ISSUER, PERSON_AUDIENCE), "ES256")
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/v1/me", headers=headers).status_code == 200  # first use: registered
        factory.team_member_id(world.inspection_id, person_id(PERSON_ISSUER, "alice@cqc.example"))
        return headers

    return sign_in


# Order matters only for state-changing calls: the lead acts before the operator.
CALL_ORDER = (
    "lead",
    "operator",
    "inspector",
    "person",
    "off_team_inspector",
    "outside_inspector",
    "agency",
    "other_area_agency",
    "org_admin",
)


def test_matrix_covers_every_policy_entry() -> None:
    assert set(MATRIX) == set(POLICY)


@pytest.mark.parametrize("operation", sorted(MATRIX))
def test_access_matrix(
    client: TestClient, factory: Factory, person_on_team: PersonOnTeam, operation: str
) -> None:
    world = factory.world()
    callers = {name: getattr(world, name).headers for name in ACTORS if name != "person"}
    callers["person"] = person_on_team(world)
    callers[ANONYMOUS] = {}
    call, expected = MATRIX[operation]
    outcomes: dict[str, int] = {}
    for actor_name in (*CALL_ORDER, ANONYMOUS):
        headers = callers[actor_name]
        body = call.body(world, factory) if call.body else None
        response = client.request(
            call.method,
            call.path(world, factory),
            json=body,
            files=call.files,
            content=call.content,
            headers=headers,
        )
        outcomes[actor_name] = response.status_code
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
    assert outcomes == expected


@pytest.mark.parametrize("if_match", [None, '"1"'])
def test_an_agency_not_responsible_for_engagement_cannot_write_it(
    client: TestClient, factory: Factory, if_match: str | None
) -> None:
    """The policy lets every participating agency through; the theme then names the writers."""
    world = factory.world()
    path = _engaged_child(world, factory)  # written by the council
    school = factory.actor_in(world, "school")
    headers = school.headers | ({"If-Match": if_match} if if_match else {})
    response = client.put(path, json={"arrangements": "Cancelled"}, headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "not_responsible_for_engagement"
    assert client.get(path, headers=world.lead.headers).json()["arrangements"] is None


# An inspection the caller does not take part in answers 404, whatever its role allows.
FOREIGN_INSPECTION_CALLS = [
    ("GET", "", "lead"),
    ("GET", "", "agency"),
    ("GET", "", "inspector"),
    ("PUT", "/status", "lead"),
    ("GET", "/audit", "lead"),
]


@pytest.mark.parametrize(("method", "suffix", "actor_name"), FOREIGN_INSPECTION_CALLS)
def test_another_inspection_is_404(
    client: TestClient, factory: Factory, method: str, suffix: str, actor_name: str
) -> None:
    world = factory.world()
    actor = getattr(world, actor_name)
    body = {"status": "fieldwork"} if method == "PUT" else None
    response = client.request(
        method,
        INSPECTION.format(world.other_inspection_id) + suffix,
        json=body,
        headers=actor.headers,
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_unknown_inspection_is_404_even_for_the_operator(
    client: TestClient, factory: Factory
) -> None:
    world = factory.world()
    response = client.get(INSPECTION.format(uuid.uuid4()), headers=world.operator.headers)
    assert response.status_code == 404


def test_list_shows_only_inspections_taken_part_in(client: TestClient, factory: Factory) -> None:
    world = factory.world()

    def listed(actor_name: str) -> set[str]:
        response = client.get("/v1/inspections", headers=getattr(world, actor_name).headers)
        return {item["id"] for item in response.json()["items"]}

    mine, theirs = str(world.inspection_id), str(world.other_inspection_id)
    assert listed("operator") == {mine, theirs}
    assert listed("lead") == {mine}
    assert listed("agency") == {mine}
    assert listed("other_area_agency") == {theirs}
    assert listed("outside_inspector") == {theirs}
    assert listed("inspector") == {mine}
    assert listed("off_team_inspector") == set()


# -- a closed inspection: every operation the policy says writes is refused there -------------

# Writing operations that act on no inspection: closing one does not concern them.
ON_NO_INSPECTION = frozenset(
    {
        "create_organisation",
        "create_client",
        "disable_client",
        "rotate_client_secret",
        "create_inspection",
        # an organisation's webhooks are about no one inspection
        "create_webhook",
        "delete_webhook",
        "ping_webhook",
    }
)


def _close(factory: Factory, inspection_id: uuid.UUID) -> None:
    with session_scope(factory.state.session_factory) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None
        inspection.status = InspectionStatus.CLOSED


@pytest.mark.parametrize("operation", sorted(POLICY))
def test_a_closed_inspection_refuses_what_the_policy_says_writes(
    client: TestClient, factory: Factory, operation: str
) -> None:
    """As an actor the matrix lets through: 409 ``inspection_closed`` for a writing operation
    (routes that find the inspection through a request or an upload too), as before for a
    reading one."""
    world = factory.world()
    call, expected = MATRIX[operation]
    actor_name = next(name for name in CALL_ORDER if expected[name] not in {401, 403, 404})
    path, body = call.path(world, factory), call.body(world, factory) if call.body else None
    _close(factory, world.inspection_id)
    response = client.request(
        call.method,
        path,
        json=body,
        files=call.files,
        content=call.content,
        headers=getattr(world, actor_name).headers,
    )
    if POLICY[operation].writes and operation not in ON_NO_INSPECTION:
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "inspection_closed"
    else:
        assert response.status_code == expected[actor_name], response.text


def test_every_operation_says_whether_it_writes_and_no_get_does(app: FastAPI) -> None:
    for route in flat_routes(app.router.routes):
        if route.name in PUBLIC_OPERATIONS or route.name not in POLICY:
            continue
        assert POLICY[route.name].writes == (route.methods != {"GET"}), route.name
    assert {name for name, rule in POLICY.items() if rule.writes} >= ON_NO_INSPECTION
    assert all(POLICY[name].relation is None for name in ON_NO_INSPECTION)


@pytest.mark.parametrize(
    ("operation", "closed_status"), [("get_schedule", 409), ("upload_document", 201)]
)
def test_the_closed_rule_follows_the_policy_entry_not_the_http_method(
    client: TestClient,
    factory: Factory,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    closed_status: int,
) -> None:
    """Declare a read as writing and a closed inspection refuses it; declare an upload as not
    writing and it goes through (whether the route loads the inspection or a service does)."""
    rule = POLICY[operation]
    monkeypatch.setitem(POLICY, operation, dataclasses.replace(rule, writes=not rule.writes))
    world = factory.world()
    call, expected = MATRIX[operation]
    actor_name = next(name for name in CALL_ORDER if expected[name] not in {401, 403, 404})
    path = call.path(world, factory)
    _close(factory, world.inspection_id)
    response = client.request(
        call.method, path, files=call.files, headers=getattr(world, actor_name).headers
    )
    assert response.status_code == closed_status, response.text


def test_the_readme_access_table_is_the_matrix() -> None:
    from tests.auth.access_table import readme_table, render

    assert readme_table() == render(), (
        "README's access table is stale: .venv/bin/python -m tests.auth.access_table"
    )
