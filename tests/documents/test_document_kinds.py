"""Documents by kind: a case-file request covers several kinds (chronology, assessment, plan,
...), each upload names one, versions run within one kind, and the request is answered only
when every kind it covers has a document or a nil return (issue 16, "Documents have no kind").
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.database import session_scope
from app.documents.models import Document
from tests.conftest import Reader
from tests.factories import PDF, Factory, World

# What the council provides for a mental-health tracked child (provided_by in the theme).
COUNCIL_KINDS = [
    "initial-contact",
    "assessment",
    "strategy-discussion",
    "section-47",
    "plan",
    "return-home-interview",
    "multi-agency-meeting-minutes",
    "chronology",
]


def requests_of(client: TestClient, world: World, actor: Any = None) -> list[dict[str, Any]]:
    url = f"/v1/inspections/{world.inspection_id}/requests"
    response = client.get(url, headers=(actor or world.agency).headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def council_case_file(client: TestClient, factory: Factory, world: World) -> dict[str, Any]:
    """The council's case-file request for tracked child C1."""
    factory.selection(world.inspection_id, "tracked", ["C1"])
    return next(r for r in requests_of(client, world) if r["kind"] == "case_file")


def request_now(client: TestClient, world: World, request_id: str) -> dict[str, Any]:
    return next(r for r in requests_of(client, world, world.lead) if r["id"] == request_id)


def upload(
    client: TestClient,
    actor: Any,
    request_id: str,
    name: str,
    kind: str | None,
    data: bytes = PDF,
    **options: Any,
) -> Any:
    form = {"kind": kind} if kind is not None else None
    return client.post(
        f"/v1/requests/{request_id}/documents",
        data=form,
        files={"file": (name, data, "application/octet-stream")},
        headers=actor.headers,
        **options,
    )


def test_the_council_is_asked_for_the_kinds_it_provides(
    client: TestClient, factory: Factory, world: World
) -> None:
    request = council_case_file(client, factory, world)
    assert request["categories"] == COUNCIL_KINDS
    assert [a["document_kind"] for a in request["answers"]] == COUNCIL_KINDS
    assert {a["status"] for a in request["answers"]} == {"owed"}
    plan = next(a for a in request["answers"] if a["document_kind"] == "plan")
    assert plan["title"].startswith("most recent plan for the child")


def test_one_upload_no_longer_answers_the_whole_case_file_request(
    client: TestClient, factory: Factory, world: World
) -> None:
    """Issue 16: "One upload marks the whole request answered"; it answers its kind only."""
    request = council_case_file(client, factory, world)
    sent = upload(client, world.agency, request["id"], "chronology.pdf", "chronology")
    assert sent.status_code == 201, sent.text
    now = request_now(client, world, request["id"])
    assert now["state"] == "partly_answered"
    assert sent.json()["document_kind"] == "chronology"
    by_kind = {a["document_kind"]: a for a in now["answers"]}
    assert by_kind["chronology"]["status"] == "received"
    assert by_kind["chronology"]["document_id"] == sent.json()["id"]
    assert by_kind["chronology"]["answered_at"] is not None
    assert by_kind["chronology"]["late"] is False
    assert {k for k, a in by_kind.items() if a["status"] == "owed"} == set(COUNCIL_KINDS) - {
        "chronology"
    }
    # Inspectors see what the council still owes for the child.
    rows = client.get(
        f"/v1/inspections/{world.inspection_id}/submissions", headers=world.lead.headers
    ).json()
    council = next(r for r in rows if r["organisation_id"] == str(world.agency.organisation_id))
    assert request["id"] in {r["id"] for r in council["open_requests"]}


def test_every_kind_answered_answers_the_request(
    client: TestClient, factory: Factory, world: World
) -> None:
    request = council_case_file(client, factory, world)
    *sent, last = COUNCIL_KINDS
    for kind in sent:
        assert upload(client, world.agency, request["id"], f"{kind}.pdf", kind).status_code == 201
    assert request_now(client, world, request["id"])["state"] == "partly_answered"
    said = client.post(
        f"/v1/requests/{request['id']}/nil-return",
        json={"reason": "No chronology is kept for this child.", "document_kind": last},
        headers=world.agency.headers,
    )
    assert said.status_code == 201, said.text
    now = request_now(client, world, request["id"])
    assert now["state"] == "answered"
    assert [a["status"] for a in now["answers"]] == ["received"] * len(sent) + ["nil_return"]


def test_versions_and_supersedes_stay_within_one_kind(
    client: TestClient, factory: Factory, world: World
) -> None:
    """Issue 16: `plan.txt` "superseded" `chronology.pdf`; only a later chronology does."""
    request_id = council_case_file(client, factory, world)["id"]
    chronology = upload(client, world.agency, request_id, "chronology.pdf", "chronology").json()
    plan = upload(client, world.agency, request_id, "plan.txt", "plan", b"Plan for C1.\n")
    assert plan.status_code == 201, plan.text
    assert plan.json()["supersedes_id"] is None
    again = upload(client, world.agency, request_id, "chronology-v2.pdf", "chronology", PDF + b"%")
    assert again.json()["supersedes_id"] == chronology["id"]
    by_kind = {a["document_kind"]: a for a in request_now(client, world, request_id)["answers"]}
    assert by_kind["chronology"]["document_id"] == again.json()["id"]  # the latest version
    assert by_kind["plan"]["document_id"] == plan.json()["id"]


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("astrology", "invalid_document_kind"),  # no such kind in the theme
        ("pre-sentence-report", "invalid_document_kind"),  # the youth offending team's, not ours
        (None, "document_kind_required"),
    ],
)
def test_a_kind_the_request_does_not_cover_is_422_and_nothing_is_stored(
    client: TestClient,
    factory: Factory,
    world: World,
    db: Reader,
    kind: str | None,
    code: str,
) -> None:
    request_id = council_case_file(client, factory, world)["id"]
    refused = upload(client, world.agency, request_id, "x.pdf", kind)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == code
    assert problem["errors"][0]["field"] == "form.kind"
    assert problem["allowed_document_kinds"] == COUNCIL_KINDS
    assert "chronology" in problem["errors"][0]["message"]
    assert db.all(select(Document)) == []


def test_the_kind_may_come_in_the_query_or_as_kind_and_must_agree(
    client: TestClient, factory: Factory, world: World, db: Reader
) -> None:
    request_id = council_case_file(client, factory, world)["id"]
    by_query = upload(
        client, world.agency, request_id, "a.pdf", None, params={"document_kind": "assessment"}
    )
    assert by_query.status_code == 201, by_query.text
    assert by_query.json()["document_kind"] == "assessment"
    wrong_query = upload(
        client, world.agency, request_id, "a.pdf", None, params={"document_kind": "astrology"}
    )
    assert wrong_query.json()["errors"][0]["field"] == "query.document_kind"
    by_design_name = client.post(
        f"/v1/requests/{request_id}/documents",
        data={"kind": "plan"},
        files={"file": ("p.pdf", PDF, "application/pdf")},
        headers=world.agency.headers,
    )
    assert by_design_name.status_code == 201, by_design_name.text
    assert by_design_name.json()["document_kind"] == "plan"
    differing = upload(
        client, world.agency, request_id, "c.pdf", "chronology", params={"document_kind": "plan"}
    )
    assert differing.status_code == 422
    assert differing.json()["code"] == "conflicting_document_kind"
    assert len(db.all(select(Document))) == 2


def test_a_request_without_kinds_refuses_one(
    client: TestClient, factory: Factory, world: World
) -> None:
    request_id = str(factory.document_request(world.inspection_id, world.agency.organisation_id))
    refused = upload(client, world.agency, request_id, "x.pdf", "chronology")
    assert refused.status_code == 422
    assert refused.json()["code"] == "document_kind_not_applicable"
    sent = upload(client, world.agency, request_id, "x.pdf", None)
    assert sent.status_code == 201
    assert sent.json()["document_kind"] is None


def _start(client: TestClient, world: World, request_id: str, data: bytes, **kind: str) -> Any:
    body = {"filename": "scan.pdf", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return client.post(
        f"/v1/requests/{request_id}/uploads", json=body | kind, headers=world.agency.headers
    )


def test_a_presigned_upload_names_its_kind_when_it_starts(
    client: TestClient, factory: Factory, world: World
) -> None:
    request_id = council_case_file(client, factory, world)["id"]
    data = PDF * 3
    missing = _start(client, world, request_id, data)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "body.kind"
    wrong = _start(client, world, request_id, data, document_kind="astrology")
    assert wrong.json()["allowed_document_kinds"] == COUNCIL_KINDS
    plan = _start(client, world, request_id, data, kind="section-47").json()
    part = client.put(plan["parts"][0]["url"], content=data, headers=world.agency.headers).json()
    done = client.post(plan["complete_url"], json={"parts": [part]}, headers=world.agency.headers)
    assert done.status_code == 201, done.text
    read = client.get(f"/v1/documents/{done.json()['id']}", headers=world.inspector.headers)
    assert read.json()["document_kind"] == "section-47"
    by_kind = {a["document_kind"]: a for a in request_now(client, world, request_id)["answers"]}
    assert by_kind["section-47"]["status"] == "received"


def test_a_document_of_no_kind_on_a_case_file_request_answers_no_kind(
    client: TestClient, factory: Factory, world: World
) -> None:
    """As documents sent before kinds were asked are migrated: unspecified, answering none."""
    request_id = council_case_file(client, factory, world)["id"]
    document_id = factory.document(world.agency, uuid.UUID(request_id), kind="plan")
    with session_scope(factory.state.session_factory) as session:
        document = session.get(Document, document_id)
        assert document is not None
        document.document_kind = None
    now = request_now(client, world, request_id)
    assert now["state"] == "open"
    assert [d["document_kind"] for d in now["documents"]] == [None]
    assert {a["status"] for a in now["answers"]} == {"owed"}


def test_the_form_field_is_read_before_the_file_and_bounded(
    client: TestClient, factory: Factory, world: World, db: Reader
) -> None:
    request_id = council_case_file(client, factory, world)["id"]
    boundary = "kindboundary"

    def form(*parts: tuple[str, str, bytes]) -> bytes:
        body = b""
        for name, extra, value in parts:
            body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{extra}'.encode()
            body += b"\r\n\r\n" + value + b"\r\n"
        return body + f"--{boundary}--\r\n".encode()

    headers = world.agency.headers | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    url = f"/v1/requests/{request_id}/documents"
    file_part = ("file", '; filename="plan.pdf"', PDF)
    after = client.post(
        url, content=form(file_part, ("document_kind", "", b"plan")), headers=headers
    )
    assert after.status_code == 422  # after the file: not read, so no kind was named
    assert after.json()["code"] == "document_kind_required"
    huge = client.post(
        url, content=form(("document_kind", "", b"p" * 300), file_part), headers=headers
    )
    assert huge.status_code == 422
    assert huge.json()["code"] == "broken_multipart"
    twice = form(("kind", "", b"plan"), ("kind", "", b"plan"), file_part)
    assert client.post(url, content=twice, headers=headers).status_code == 422
    assert db.all(select(Document)) == []
