"""The council's note on the area's context, listed on the lead's selection view."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import PDF, Factory, World
from tests.worlds import TRACKED


def _context_note_request(client: TestClient, world: World) -> dict[str, object]:
    requests = client.get(
        f"/v1/inspections/{world.inspection_id}/requests", headers=world.agency.headers
    ).json()
    (note,) = [r for r in requests if r["kind"] == "context_note"]
    return note


def test_the_council_sends_a_context_note_and_the_lead_sees_it_when_selecting(
    client: TestClient, factory: Factory, world: World
) -> None:
    """Mental health para 36: the DCS may advise the lead of the area's context with the
    lists; the lead takes it into account when selecting. It is optional: never owed."""
    factory.selection(world.inspection_id, "tracked", TRACKED)
    note = _context_note_request(client, world)
    assert note["due_at"] is None
    assert "para 36" in str(note["title"])
    sent = client.post(
        f"/v1/requests/{note['id']}/documents",
        files={"file": ("context.pdf", PDF, "application/pdf")},
        headers=world.agency.headers,
    )
    assert sent.status_code == 201, sent.json()
    url = f"/v1/inspections/{world.inspection_id}/selections/tracked"
    for inspector in (world.lead, world.inspector):
        seen = client.get(url, headers=inspector.headers).json()["context_notes"]
        assert [(n["id"], n["filename"]) for n in seen] == [(sent.json()["id"], "context.pdf")]
    police = factory.actor_in(world, "police")
    assert client.get(url, headers=police.headers).json()["context_notes"] == []
