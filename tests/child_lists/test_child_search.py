"""Finding children across every current list (issue 16, "views an inspector front end
needs"): by the start of the child's ID, by field values, paged, audited once per search."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.audit.sequencer import chain_all_pending
from app.core.database import session_scope
from tests.factories import Factory, World
from tests.list_rows import cin_row, cp_row


def search(client: TestClient, world: World, **params: Any) -> Any:
    return client.get(
        f"/v1/inspections/{world.inspection_id}/children",
        params=params,
        headers=world.inspector.headers,
    )


def lists_with_children(factory: Factory, world: World) -> None:
    factory.stored_list(
        world.inspection_id,
        "children-in-need",
        [cin_row("AB1"), cin_row("AB2", allocated_team="South"), cin_row("XY9")],
    )
    # A newer version replaces the first: XY9 is no longer on it, AB3 is.
    factory.stored_list(
        world.inspection_id,
        "children-in-need",
        [cin_row("AB1"), cin_row("AB2", allocated_team="South"), cin_row("AB3")],
    )
    factory.stored_list(world.inspection_id, "child-protection", [cp_row("AB1"), cp_row("AB1")])


def test_an_id_prefix_finds_children_on_every_current_list(
    client: TestClient, factory: Factory, world: World
) -> None:
    lists_with_children(factory, world)
    factory.selection(world.inspection_id, "tracked", ["AB2"])
    found = search(client, world, q="AB")
    assert found.status_code == 200, found.text
    page = found.json()
    assert page["total"] == 3
    assert [c["child_id"] for c in page["items"]] == ["AB1", "AB2", "AB3"]
    ab1 = page["items"][0]
    assert [(a["list_key"], a["version"], a["rows"]) for a in ab1["appearances"]] == [
        ("children-in-need", 2, 1),
        ("child-protection", 1, 2),
    ]
    assert ab1["appearances"][0]["organisation_id"] == str(world.agency.organisation_id)
    assert page["items"][1]["selections"] == ["tracked"]
    assert "data" not in str(ab1)  # where the child is, never its rows
    assert search(client, world, q="XY").json()["total"] == 0  # only on an older version


def test_field_filters_and_paging(client: TestClient, factory: Factory, world: World) -> None:
    lists_with_children(factory, world)
    # AB2's children-in-need row, and AB1's child-protection rows (cp_row's team is South).
    south = search(client, world, allocated_team="South").json()
    assert [c["child_id"] for c in south["items"]] == ["AB1", "AB2"]
    assert [a["list_key"] for a in south["items"][0]["appearances"]] == ["child-protection"]
    assert [a["list_key"] for a in south["items"][1]["appearances"]] == ["children-in-need"]
    north = search(client, world, q="AB", allocated_team="North", gender="F").json()
    assert [c["child_id"] for c in north["items"]] == ["AB1", "AB3"]
    first = search(client, world, q="AB", limit=2).json()
    assert [c["child_id"] for c in first["items"]] == ["AB1", "AB2"]
    assert first["next_offset"] == 2
    rest = search(client, world, q="AB", limit=2, offset=2).json()
    assert [c["child_id"] for c in rest["items"]] == ["AB3"]
    assert rest["next_offset"] is None
    # A field of the child-protection list only: other lists cannot match.
    both = search(client, world, q="AB1", child_id="AB1").json()
    assert both["total"] == 1


def test_unknown_fields_are_refused_and_agencies_may_not_search(
    client: TestClient, factory: Factory, world: World
) -> None:
    lists_with_children(factory, world)
    refused = search(client, world, shoe_size="9")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "query.shoe_size"
    assert search(client, world, gender_from="2020-01-01").status_code == 422
    assert search(client, world, q="AB\nXY").status_code == 422  # IDs hold no line breaks
    for actor in (world.agency, world.operator):
        response = client.get(
            f"/v1/inspections/{world.inspection_id}/children", headers=actor.headers
        )
        assert response.status_code == 403


def test_one_audit_record_per_search_names_the_count_not_the_children(
    client: TestClient, factory: Factory, world: World, app: Any
) -> None:
    lists_with_children(factory, world)
    assert search(client, world, q="AB").status_code == 200
    with session_scope(app.state.jtai.session_factory) as session:
        chain_all_pending(session)
        events = (
            session.execute(select(AuditEvent).where(AuditEvent.action == "children.searched"))
            .scalars()
            .all()
        )
        assert len(events) == 1
        assert events[0].child_id is None
        assert events[0].detail == {"q": "AB", "fields": [], "found": 3}
