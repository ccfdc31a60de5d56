"""The progress view (issue 16, "views an inspector front end needs"): per tracked child, per
agency, per kind and item, received, nil return or owed; evaluations, engagement, tracking;
read in a number of statements that does not grow with the children."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from tests.factories import PDF, Factory, World
from tests.list_rows import cin_row


def progress(client: TestClient, world: World, actor: Any = None) -> Any:
    return client.get(
        f"/v1/inspections/{world.inspection_id}/progress",
        headers=(actor or world.lead).headers,
    )


def track(client: TestClient, factory: Factory, world: World, children: list[str]) -> None:
    factory.stored_list(world.inspection_id, "children-in-need", [cin_row(c) for c in children])
    factory.selection(world.inspection_id, "tracked", children)


def case_file(
    client: TestClient, world: World, organisation_id: uuid.UUID, child: str
) -> uuid.UUID:
    asked = client.get(
        f"/v1/inspections/{world.inspection_id}/requests", headers=world.lead.headers
    ).json()
    return uuid.UUID(
        next(
            r["id"]
            for r in asked
            if r["kind"] == "case_file"
            and r["child_id"] == child
            and r["addressee_organisation_id"] == str(organisation_id)
        )
    )


def test_from_owed_to_received_nil_returned_evaluated_engaged_and_tracked(
    client: TestClient, factory: Factory, world: World
) -> None:
    health = factory.actor_in(world, "health")
    track(client, factory, world, ["C1", "C2"])
    before = progress(client, world)
    assert before.status_code == 200, before.text
    first = before.json()["tracked_children"][0]
    assert first["child_id"] == "C1"
    assert first["complete"] is False
    council = next(
        a for a in first["agencies"] if a["organisation_id"] == str(world.agency.organisation_id)
    )
    items = council["requests"][0]["items"]
    assert {i["status"] for i in items} == {"owed"}
    assert all(i["due_at"] is not None for i in items)

    request_id = case_file(client, world, world.agency.organisation_id, "C1")
    document = factory.document(world.agency, request_id, PDF, "chronology")
    factory.nil_return(world.agency, request_id, "No plan: never needed one.", "plan")
    factory.evaluation(world.agency, world.inspection_id, "C1")
    factory.evaluation(health, world.inspection_id, "C1", kind="health")
    factory.engagement(world.agency, world.inspection_id, "C1")
    tracked = client.put(
        f"/v1/inspections/{world.inspection_id}/children/C1/tracking",
        json={"summaries": {}},
        headers=world.inspector.headers,
    )
    assert tracked.status_code == 200, tracked.text

    after = progress(client, world, world.inspector).json()
    c1, c2 = after["tracked_children"]
    council = next(
        a for a in c1["agencies"] if a["organisation_id"] == str(world.agency.organisation_id)
    )
    by_kind = {i["document_kind"]: i for i in council["requests"][0]["items"]}
    assert by_kind["chronology"]["status"] == "received"
    assert by_kind["chronology"]["document_id"] == str(document)
    assert by_kind["chronology"]["late"] is False
    assert by_kind["chronology"]["answered_at"] is not None
    assert by_kind["plan"]["status"] == "nil_return"
    assert by_kind["plan"]["nil_return_reason"] == "No plan: never needed one."
    assert by_kind["assessment"]["status"] == "owed"
    assert c1["joint_evaluation"]["present"] is True
    assert c1["joint_evaluation"]["version"] == 1
    assert c1["joint_evaluation"]["late"] is False
    singles = {e["organisation_id"]: e for e in c1["single_agency_evaluations"]}
    assert singles[str(health.organisation_id)]["present"] is True
    assert singles[str(world.agency.organisation_id)]["present"] is False
    assert c1["engagement"]["recorded"] is True
    assert c1["engagement"]["child_agreed"] is True
    assert c1["tracking_records"] == 1
    assert c2["joint_evaluation"]["present"] is False
    assert c2["engagement"] == {
        "recorded": False,
        "child_agreed": None,
        "parent_agreed": None,
        "carer_agreed": None,
        "confirmed_in_writing_at": None,
    }
    assert c2["tracking_records"] == 0
    # The theme's information items, asked of no child, come after the children.
    assert after["other_requests"]
    assert after["received"] == 1
    assert after["nil_returns"] == 1
    assert after["owed"] > 0


def test_inspectors_only(client: TestClient, factory: Factory, world: World) -> None:
    track(client, factory, world, ["C1"])
    assert progress(client, world, world.agency).status_code == 403
    assert progress(client, world, world.operator).status_code == 403
    assert progress(client, world, world.off_team_inspector).status_code == 404


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statements_for(
    client: TestClient, factory: Factory, engine: Engine, children: list[str]
) -> int:
    world = factory.world()
    for kind in ("health", "police", "youth_offending"):
        factory.actor_in(world, kind)
    track(client, factory, world, children)
    for child in children:
        request_id = case_file(client, world, world.agency.organisation_id, child)
        factory.document(world.agency, request_id, PDF, "chronology")
        factory.nil_return(world.agency, request_id, "None held.", "plan")
        factory.evaluation(world.agency, world.inspection_id, child)
        factory.engagement(world.agency, world.inspection_id, child)
    progress(client, world)  # warm: the token's first use, caches
    with statements(engine) as seen:
        response = progress(client, world)
    assert response.status_code == 200
    assert len(response.json()["tracked_children"]) == len(children)
    return len(seen)


def test_statements_do_not_grow_with_children(
    client: TestClient, factory: Factory, engine: Engine
) -> None:
    one = _statements_for(client, factory, engine, ["C1"])
    seven = _statements_for(client, factory, engine, [f"C{n}" for n in range(1, 8)])
    assert one == seven
    assert seven <= 20


def test_reading_progress_is_in_each_tracked_childs_access_log(
    client: TestClient, factory: Factory, world: World
) -> None:
    track(client, factory, world, ["C1", "C2"])
    assert progress(client, world, world.inspector).status_code == 200
    for child in ("C1", "C2"):
        log = client.get(
            f"/v1/inspections/{world.inspection_id}/children/{child}/access-log",
            headers=world.lead.headers,
        ).json()["items"]
        seen = {(item["client_id"], item["action"]) for item in log}
        assert (str(world.inspector.client_id), "progress.read") in seen
