"""Themes over the API, and a third theme that runs from a file alone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.core.config import Settings
from app.main import create_app
from tests.factories import Factory

FIXTURES = Path(__file__).resolve().parents[1] / "themes" / "fixtures"


def test_list_themes(client: TestClient, factory: Factory) -> None:
    world = factory.world()
    themes = client.get("/v1/themes", headers=world.agency.headers).json()
    assert [theme["key"] for theme in themes] == ["domestic-abuse", "mental-health"]
    da = next(theme for theme in themes if theme["key"] == "domestic-abuse")
    assert "shortlist-information" in da["lists"]
    assert da["milestones"][0] == "lists-cin-cp"


def test_get_theme_gives_everything(client: TestClient, factory: Factory) -> None:
    world = factory.world()
    theme = client.get("/v1/themes/mental-health", headers=world.inspector.headers).json()
    lists = {spec["key"]: spec for spec in theme["lists"]}
    assert set(lists) == {
        "contacts",
        "referrals",
        "assessments",
        "section-47",
        "children-in-need",
        "child-protection",
        "looked-after",
    }
    headings = {field["heading"] for field in lists["children-in-need"]["fields"]}
    assert "Child Unique ID" in headings
    items = [item["number"] for s in theme["information_sections"] for item in s["items"]]
    assert items[0] == "1.1"
    assert items[-1] == "6.6"
    assert [c["number"] for c in theme["esn_criteria"]] == list(range(23, 42))
    assert theme["tracking"]["questions"]


def test_unknown_theme_is_404(client: TestClient, factory: Factory) -> None:
    world = factory.world()
    response = client.get("/v1/themes/neglect", headers=world.agency.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.commits
def test_a_third_theme_runs_from_a_file_alone(settings: Settings, engine: Engine) -> None:
    # `engine` makes the clean-up fixture empty the tables this test fills.
    app = create_app(settings.model_copy(update={"extra_themes_dir": FIXTURES}))
    factory = Factory(app)
    world = factory.world(
        "neglect", notification_at=datetime(2030, 3, 4, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    )
    with TestClient(app) as client:
        listed = client.get("/v1/themes", headers=world.lead.headers).json()
        assert "neglect" in [theme["key"] for theme in listed]
        created = client.post(
            "/v1/inspections",
            json={
                "area_name": "Elsewhere",
                "local_authority_id": str(world.agency.organisation_id),
                "theme": "neglect",
                "notification_at": "2030-03-04T09:00:00+00:00",
            },
            headers=world.operator.headers,
        )
        assert created.status_code == 201
        schedule = client.get(
            f"/v1/inspections/{world.inspection_id}/schedule", headers=world.lead.headers
        ).json()
    app.state.jtai.engine.dispose()
    assert [m["key"] for m in schedule["milestones"]] == ["lists", "selection", "documents"]
    assert schedule["milestones"][0]["due_at"] == "2030-03-05T12:00:00.000000Z"
