"""Joint and single-agency evaluations: who writes which, who reads which, versions, lateness."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from tests.conftest import Reader
from tests.factories import Actor, Factory
from tests.worlds import PAST, TRACKED, Exchange, milestone

QUESTIONS = [
    "referral_timely",
    "risk_identified",
    "mental_health_needs",
    "decision_making",
    "assessment_clear",
    "plan_effective",
    "child_involved",
    "individual_needs",
    "agencies_protect",
    "agencies_support_mental_health",
]


def _body(ex: Exchange, joint: bool = True, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"answers": dict.fromkeys(QUESTIONS, "Seen."), "summary": "Good."}
    if joint:
        body["contributing_organisation_ids"] = [
            str(ex.world.agency.organisation_id),
            str(ex.health.organisation_id),
        ]
    return body | changes


def _put(
    client: TestClient,
    ex: Exchange,
    kind: str,
    actor: Actor,
    body: dict[str, Any],
    child: str = "C1",
    if_match: str | None = None,
) -> Any:
    headers = actor.headers | ({"If-Match": if_match} if if_match else {})
    return client.put(f"{ex.child(child)}/evaluations/{kind}", json=body, headers=headers)


def test_local_authority_writes_joint_versions(client: TestClient, ex: Exchange) -> None:
    first = _put(client, ex, "joint", ex.world.agency, _body(ex))
    assert first.status_code == 200, first.json()
    assert first.headers["ETag"] == '"1"'
    assert first.json()["version"] == 1
    assert first.json()["late"] is False
    assert first.json()["organisation_id"] == str(ex.world.agency.organisation_id)
    second = _put(
        client, ex, "joint", ex.world.agency, _body(ex, summary="Better."), if_match='"1"'
    )
    assert second.json()["version"] == 2
    stale = _put(client, ex, "joint", ex.world.agency, _body(ex), if_match='"1"')
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_mismatch"
    current = client.get(f"{ex.child()}/evaluations/joint", headers=ex.world.lead.headers)
    assert current.json()["summary"] == "Better."
    older = client.get(f"{ex.child()}/evaluations/joint?version=1", headers=ex.world.lead.headers)
    assert older.json()["summary"] == "Good."


def test_only_the_local_authority_writes_the_joint_one(client: TestClient, ex: Exchange) -> None:
    response = _put(client, ex, "joint", ex.health, _body(ex))
    assert response.status_code == 403
    assert response.json()["code"] == "not_local_authority"
    assert _put(client, ex, "joint", ex.world.inspector, _body(ex)).status_code == 403


def test_an_agency_writes_only_its_own_kind(client: TestClient, ex: Exchange) -> None:
    own = _put(client, ex, "health", ex.health, _body(ex, joint=False))
    assert own.status_code == 200, own.json()
    assert own.json()["organisation_id"] == str(ex.health.organisation_id)
    other = _put(client, ex, "police", ex.health, _body(ex, joint=False))
    assert other.status_code == 403
    assert other.json()["code"] == "not_own_evaluation"
    assert _put(client, ex, "banana", ex.health, _body(ex, joint=False)).status_code == 404


def test_only_tracked_children(client: TestClient, ex: Exchange) -> None:
    response = _put(client, ex, "joint", ex.world.agency, _body(ex), child="C9")
    assert response.status_code == 404
    listed = client.get(f"{ex.child('C9')}/evaluations", headers=ex.world.lead.headers)
    assert listed.status_code == 404


def test_body_must_fit_the_theme(client: TestClient, ex: Exchange) -> None:
    answers = dict.fromkeys(QUESTIONS[1:], "Seen.") | {"nope": "x"}
    body = _body(ex, answers=answers)
    body["contributing_organisation_ids"].append(str(ex.world.lead.organisation_id))
    response = _put(client, ex, "joint", ex.world.agency, body)
    assert response.status_code == 422
    problems = {(p["field"], p["code"]) for p in response.json()["errors"]}
    assert problems == {
        ("body.answers.nope", "unknown_question"),
        ("body.answers.referral_timely", "answer_missing"),
        ("body.contributing_organisation_ids.2", "not_a_participating_agency"),
    }
    alone = _put(client, ex, "joint", ex.world.agency, _body(ex, contributing_organisation_ids=[]))
    assert alone.json()["errors"][0]["code"] == "contributors_missing"
    # The detail names the field at fault, not the questions, which were all answered.
    assert "contributing_organisation_ids is missing" in alone.json()["detail"]
    assert "question" not in alone.json()["detail"]
    assert "answers:" in response.json()["detail"]
    single = _put(client, ex, "health", ex.health, _body(ex))
    assert single.json()["errors"][0]["code"] == "not_joint"


def test_free_text_is_limited(client: TestClient, ex: Exchange) -> None:
    answers = dict.fromkeys(QUESTIONS, "x" * 10_001)
    response = _put(client, ex, "joint", ex.world.agency, _body(ex, answers=answers))
    assert response.status_code == 422
    summary = _put(client, ex, "joint", ex.world.agency, _body(ex, summary="y" * 10_001))
    assert summary.json()["errors"][0]["field"] == "body.summary"


def test_who_reads_which(client: TestClient, ex: Exchange) -> None:
    _put(client, ex, "joint", ex.world.agency, _body(ex))
    _put(client, ex, "health", ex.health, _body(ex, joint=False))
    url = f"{ex.child()}/evaluations"
    assert client.get(f"{url}/health", headers=ex.police.headers).status_code == 404
    assert client.get(f"{url}/joint", headers=ex.police.headers).status_code == 200
    assert client.get(f"{url}/health", headers=ex.health.headers).status_code == 200
    assert client.get(f"{url}/health", headers=ex.world.inspector.headers).status_code == 200

    def kinds(actor: Actor) -> list[str]:
        return sorted(e["kind"] for e in client.get(url, headers=actor.headers).json())

    assert kinds(ex.police) == ["joint"]
    assert kinds(ex.health) == ["health", "joint"]
    assert kinds(ex.world.lead) == ["health", "joint"]
    assert client.get(url, headers=ex.world.other_area_agency.headers).status_code == 404


def test_two_agencies_of_one_kind_are_told_apart(
    client: TestClient, ex: Exchange, factory: Factory
) -> None:
    camhs = factory.actor_in(ex.world, "health")
    _put(client, ex, "health", ex.health, _body(ex, joint=False))
    _put(client, ex, "health", camhs, _body(ex, joint=False, summary="CAMHS"))
    url = f"{ex.child()}/evaluations/health"
    assert client.get(url, headers=camhs.headers).json()["summary"] == "CAMHS"
    ambiguous = client.get(url, headers=ex.world.lead.headers)
    assert ambiguous.status_code == 422
    assert ambiguous.json()["errors"][0]["field"] == "query.organisation_id"
    named = client.get(
        f"{url}?organisation_id={camhs.organisation_id}", headers=ex.world.lead.headers
    )
    assert named.json()["summary"] == "CAMHS"


def test_writes_and_reads_are_audited(client: TestClient, ex: Exchange, db: Reader) -> None:
    _put(client, ex, "joint", ex.world.agency, _body(ex))
    client.get(f"{ex.child()}/evaluations/joint", headers=ex.world.lead.headers)
    events = db.chained(select(AuditEvent).where(AuditEvent.action.like("evaluation.%")))
    assert [(e.action, e.child_id) for e in events] == [
        ("evaluation.written", "C1"),
        ("evaluation.read", "C1"),
    ]


def test_joint_evaluations_meet_the_milestone(client: TestClient, ex: Exchange) -> None:
    for child in TRACKED[:-1]:
        _put(client, ex, "joint", ex.world.agency, _body(ex), child=child)
    assert milestone(client, ex, "evaluations")["state"] == "pending"
    _put(client, ex, "health", ex.health, _body(ex, joint=False), child=TRACKED[-1])
    assert milestone(client, ex, "evaluations")["state"] == "pending"
    _put(client, ex, "joint", ex.world.agency, _body(ex), child=TRACKED[-1])
    met = milestone(client, ex, "evaluations")
    assert met["state"] == "met"
    assert met["satisfied_by"][0]["description"] == "joint evaluations for 5 tracked children"


@pytest.mark.world(theme="domestic-abuse", notification_at=PAST)
def test_late_evaluations_are_flagged(client: TestClient, ex: Exchange) -> None:
    assert milestone(client, ex, "evaluations")["state"] == "overdue"
    for child in TRACKED:
        body = _body(ex, answers=_domestic_abuse_answers(client, ex))
        response = _put(client, ex, "joint", ex.world.agency, body, child=child)
        assert response.json()["late"] is True
    assert milestone(client, ex, "evaluations")["state"] == "late"


def _domestic_abuse_answers(client: TestClient, ex: Exchange) -> dict[str, str]:
    theme = client.get("/v1/themes/domestic-abuse", headers=ex.world.lead.headers).json()
    return dict.fromkeys(theme["evaluation"]["questions"], "Seen.")
