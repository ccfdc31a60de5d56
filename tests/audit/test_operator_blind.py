"""The operator's view of the audit trail names no child; the child's log shows downloads."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Factory, World
from tests.list_rows import cin_row, push_json
from tests.worlds import TRACKED


def _audit(client: TestClient, world: World, headers: dict[str, str], **params: Any) -> Any:
    return client.get(
        f"/v1/inspections/{world.inspection_id}/audit", params=params, headers=headers
    )


def _child_activity(client: TestClient, world: World, factory: Factory) -> None:
    """A selection, a child read, an engagement: rows that name children in several ways."""
    push_json(client, world, "children-in-need", [cin_row(child) for child in [*TRACKED, "X9"]])
    factory.selection(world.inspection_id, "tracked", TRACKED)
    base = f"/v1/inspections/{world.inspection_id}/children"
    client.get(f"{base}/C1", headers=world.inspector.headers)
    client.put(f"{base}/C2/engagement", json={"child_agreed": True}, headers=world.agency.headers)
    client.get(f"{base}/X9", headers=world.lead.headers)


def test_the_operator_sees_what_happened_but_no_child(
    client: TestClient, factory: Factory, world: World
) -> None:
    _child_activity(client, world, factory)
    response = _audit(client, world, world.operator.headers, limit=200)
    assert response.status_code == 200
    items = response.json()["items"]
    text = json.dumps(items)
    for child in [*TRACKED, "X9"]:
        assert f'"{child}"' not in text, child
    assert all(item["child_id"] is None and item["hash"] is None for item in items)
    actions = {item["action"] for item in items}
    assert {"selection.changed", "child.viewed", "engagement.written"} <= actions
    selection = next(item for item in items if item["action"] == "selection.changed")
    assert selection["redacted"] is True
    assert selection["detail"]["added"] == len(TRACKED)  # a count, not the children
    # The lead still sees the rows whole.
    whole = _audit(client, world, world.lead.headers, limit=200).json()["items"]
    assert any(item["child_id"] == "C1" for item in whole)
    assert all(item["hash"] for item in whole)


def test_the_operator_cannot_look_for_a_child(
    client: TestClient, factory: Factory, world: World
) -> None:
    _child_activity(client, world, factory)
    by_child = _audit(client, world, world.operator.headers, child_id="C1")
    assert by_child.status_code == 403
    assert by_child.json()["code"] == "child_data_not_available"
    # Nor through the object searched for: a child's ID matches nothing.
    by_object = _audit(client, world, world.operator.headers, object_id="C2")
    assert by_object.status_code == 200
    assert by_object.json()["items"] == []
    lead_view = _audit(client, world, world.lead.headers, object_id="C2").json()["items"]
    assert lead_view  # the lead's search finds the engagement row


def test_a_download_of_a_document_about_a_child_is_in_the_childs_log(
    client: TestClient, factory: Factory, world: World
) -> None:
    push_json(client, world, "children-in-need", [cin_row(child) for child in TRACKED])
    factory.selection(world.inspection_id, "tracked", TRACKED)
    requests = client.get(
        f"/v1/inspections/{world.inspection_id}/requests", headers=world.agency.headers
    ).json()
    about_c1 = next(r for r in requests if r["kind"] == "case_file" and r["child_id"] == "C1")
    document = factory.document(world.agency, uuid.UUID(about_c1["id"]), kind="chronology")
    downloaded = client.get(f"/v1/documents/{document}/content", headers=world.inspector.headers)
    assert downloaded.status_code == 200
    log = client.get(
        f"/v1/inspections/{world.inspection_id}/children/C1/access-log",
        headers=world.lead.headers,
    ).json()["items"]
    seen = {(item["client_id"], item["action"]) for item in log}
    assert (str(world.inspector.client_id), "document.downloaded") in seen
    assert (str(world.agency.client_id), "document.uploaded") in seen
    other = client.get(
        f"/v1/inspections/{world.inspection_id}/children/C2/access-log",
        headers=world.lead.headers,
    ).json()["items"]
    assert not any(item["action"].startswith("document.") for item in other)


def test_verifying_the_chain_gives_the_operator_no_hash(
    client: TestClient, factory: Factory, world: World
) -> None:
    """Before and after one child read, a head hash would be that row's hash, and every other
    field of the row is in the operator's view: the child's ID would follow from a guess."""
    _child_activity(client, world, factory)
    verified = client.get("/v1/audit/verify", headers=world.operator.headers).json()
    assert verified["valid"] is True
    assert not any("hash" in key for key in verified)
    assert all(len(str(value)) < 64 for value in verified.values())
