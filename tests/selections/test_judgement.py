"""The lead's judgement: rules the guidance leaves to the lead are warnings a reason overrides;
rules that protect the data are errors no reason lifts. Which is which is the theme's to say."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.core.database import session_scope
from app.core.errors import InvalidContent
from app.selections.service import check_selection
from app.themes.schema.selections import JudgementRule, SelectionRules
from tests.conftest import Reader
from tests.factories import Factory, World

LONDON = ZoneInfo("Europe/London")
REASON = "Only three children in this small area are living with domestic abuse."


def _put(
    client: TestClient, world: World, key: str, ids: list[str], reason: str | None = None
) -> Any:
    body: dict[str, Any] = {"child_ids": ids}
    if reason is not None:
        body["override_reason"] = reason
    return client.put(
        f"/v1/inspections/{world.inspection_id}/selections/{key}",
        json=body,
        headers=world.lead.headers,
    )


def _get(client: TestClient, world: World, key: str, actor: str = "lead") -> Any:
    return client.get(
        f"/v1/inspections/{world.inspection_id}/selections/{key}",
        headers=getattr(world, actor).headers,
    )


def _audited(db: Reader, inspection_id: uuid.UUID) -> list[AuditEvent]:
    return db.all(
        select(AuditEvent)
        .where(AuditEvent.action == "selection.changed")
        .where(AuditEvent.inspection_id == inspection_id)
        .order_by(AuditEvent.seq)
    )


@pytest.fixture
def small_area(factory: Factory) -> World:
    """A domestic-abuse inspection whose lists show only three children living with it."""
    world = factory.world("domestic-abuse", datetime(2030, 3, 5, 9, 0, tzinfo=LONDON))
    rows = [{"child_id": f"D{n}", "living_with_da": "Y"} for n in range(1, 4)]
    rows += [{"child_id": "NO-DA", "living_with_da": "N"}]
    factory.stored_list(world.inspection_id, "children-in-need", rows[:2])
    factory.stored_list(world.inspection_id, "child-protection", rows[2:])
    return world


def test_a_small_area_shortlists_three_only_with_a_reason(
    client: TestClient, small_area: World, db: Reader
) -> None:
    refused = _put(client, small_area, "shortlist", ["D1", "D2", "D3"])
    assert refused.status_code == 422
    body = refused.json()
    assert body["code"] == "needs_override"
    assert "errors" not in body
    assert body["warnings"] == [
        {
            "rule": "count",
            "code": "wrong_number_of_children",
            "message": "the guidance asks for 20 distinct children; 3 chosen",
            "child_ids": [],
            "paragraphs": [17],
        }
    ]
    assert _get(client, small_area, "shortlist").status_code == 404  # nothing stored
    assert _audited(db, small_area.inspection_id) == []

    taken = _put(client, small_area, "shortlist", ["D1", "D2", "D3"], REASON)
    assert taken.status_code == 200, taken.json()
    assert taken.json()["override_reason"] == REASON
    assert [o["rule"] for o in taken.json()["overrides"]] == ["count"]
    read = _get(client, small_area, "shortlist").json()
    assert (read["override_reason"], read["overrides"]) == (REASON, body["warnings"])
    (event,) = _audited(db, small_area.inspection_id)
    # The trail outlives a purge: it records that a reason was given, never its words.
    assert event.detail["override_reason_length"] == len(REASON)
    assert REASON not in str(event.detail)
    assert event.detail["overridden_rules"] == ["count"]


def test_tracked_children_not_on_the_shortlist_with_a_reason(
    client: TestClient, small_area: World, factory: Factory, db: Reader
) -> None:
    rows = [{"child_id": f"T{n}", "living_with_da": "Y"} for n in range(1, 4)]
    rows += [
        {"child_id": "D3", "living_with_da": "Y"},
        {"child_id": "NO-DA", "living_with_da": "N"},
    ]
    factory.stored_list(small_area.inspection_id, "child-protection", rows)  # a new version
    _put(client, small_area, "shortlist", ["T1", "T2", "T3"], REASON)
    chosen = ["T1", "T2", "T3", "D1", "NO-DA"]
    refused = _put(client, small_area, "tracked", chosen)
    assert refused.json()["code"] == "needs_override"
    warnings = {w["rule"]: w for w in refused.json()["warnings"]}
    assert set(warnings) == {"from_selection", "scope"}
    assert warnings["from_selection"]["child_ids"] == ["D1", "NO-DA"]
    assert warnings["from_selection"]["paragraphs"] == [17, 19]
    assert warnings["scope"]["child_ids"] == ["NO-DA"]

    reason = "D1 and NO-DA came up at the call with the local authority."
    taken = _put(client, small_area, "tracked", chosen, reason)
    assert taken.status_code == 200, taken.json()
    assert _audited(db, small_area.inspection_id)[-1].detail["overridden_rules"] == [
        "from_selection",
        "scope",
    ]
    requests = client.get(
        f"/v1/inspections/{small_area.inspection_id}/requests", headers=small_area.lead.headers
    ).json()
    asked_about = {r.get("child_id") for r in requests if r["kind"] == "case_file"}
    assert {"D1", "NO-DA"} <= asked_about  # case files are asked for them like any other


@pytest.mark.parametrize(
    ("chosen", "code"),
    [
        (["D1", "D2", "NOBODY"], "not_on_lists"),
        (["D1", "D2", "D2"], "duplicate_child"),
    ],
)
def test_data_rules_refuse_whatever_the_reason(
    client: TestClient, small_area: World, factory: Factory, chosen: list[str], code: str
) -> None:
    other = factory.world("domestic-abuse", datetime(2030, 3, 5, 9, 0, tzinfo=LONDON))
    factory.stored_list(other.inspection_id, "children-in-need", [{"child_id": "NOBODY"}])
    refused = _put(client, small_area, "shortlist", chosen, REASON)
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_selection"
    assert [p["code"] for p in refused.json()["errors"]] == [code]
    assert _get(client, small_area, "shortlist").status_code == 404


def test_a_flagged_16_year_old_is_tracked_with_a_reason(
    client: TestClient, world: World, factory: Factory
) -> None:
    rows = [{"child_id": f"C{n}", "age_years": 12, "mh_concern": "Y"} for n in range(1, 5)]
    rows.append({"child_id": "OLD", "age_years": 16, "mh_concern": "Y"})
    factory.stored_list(world.inspection_id, "children-in-need", rows)
    chosen = ["C1", "C2", "C3", "C4", "OLD"]
    refused = _put(client, world, "tracked", chosen)
    (warning,) = refused.json()["warnings"]
    assert (warning["rule"], warning["child_ids"], warning["paragraphs"]) == ("age", ["OLD"], [33])
    reason = "OLD turned 16 last month; CAMHS work started at 15."
    assert _put(client, world, "tracked", chosen, reason).status_code == 200
    assert _get(client, world, "tracked", "inspector").json()["override_reason"] == reason
    # An agency sees who is tracked, not the lead's reasons about them.
    seen = _get(client, world, "tracked", "agency").json()
    assert seen["child_ids"] == chosen
    assert (seen["override_reason"], seen["overrides"]) == (None, [])


def test_a_later_choice_within_the_rules_drops_the_reason(
    client: TestClient, world: World, factory: Factory, db: Reader
) -> None:
    rows = [{"child_id": f"C{n}", "age_years": 12, "mh_concern": "Y"} for n in range(1, 7)]
    factory.stored_list(world.inspection_id, "children-in-need", rows)
    _put(client, world, "tracked", ["C1", "C2", "C3", "C4"], "Four is enough here.")
    again = _put(client, world, "tracked", ["C1", "C2", "C3", "C4", "C5"])
    assert again.status_code == 200
    assert (again.json()["override_reason"], again.json()["overrides"]) == (None, [])
    assert "override_reason" not in _audited(db, world.inspection_id)[-1].detail


def test_the_operator_audit_view_withholds_the_reason(
    client: TestClient, small_area: World
) -> None:
    _put(client, small_area, "shortlist", ["D1", "D2", "D3"], REASON)
    rows = client.get(
        f"/v1/inspections/{small_area.inspection_id}/audit",
        params={"action": "selection.changed"},
        headers=small_area.operator.headers,
    ).json()["items"]
    detail = next(r["detail"] for r in rows if r["action"] == "selection.changed")
    assert detail["override_reason_length"] == len(REASON)
    assert REASON not in str(rows)


@pytest.mark.parametrize(
    "reason", ["", "  ", "x" * 2001, "\u200b\u200b\u200b", "ok \u202e reversed", "bell\x07"]
)
def test_a_reason_is_words(client: TestClient, small_area: World, reason: str) -> None:
    response = _put(client, small_area, "shortlist", ["D1", "D2", "D3"], reason)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.override_reason"


def test_the_theme_says_which_rules_are_judgement(
    client: TestClient, small_area: World, factory: Factory
) -> None:
    theme = client.get("/v1/themes/domestic-abuse", headers=small_area.lead.headers).json()
    rules = theme["selections"]["shortlist"]["rules"]
    assert rules["count"] == {"severity": "judgement", "paragraphs": [17]}
    assert rules["on_lists"]["severity"] == "error"
    # The same choice under a theme that holds the count firmly: no reason lifts it.
    with session_scope(factory.state.session_factory) as session:
        context = factory._context(session, small_area.inspection_id)
        spec = context.theme.selections["shortlist"]
        firm = spec.model_copy(
            update={"rules": SelectionRules(count=JudgementRule(severity="error"))}
        )
        assert check_selection(session, context, spec, ["D1", "D2", "D3"], REASON)
        with pytest.raises(InvalidContent) as refused:
            check_selection(session, context, firm, ["D1", "D2", "D3"], REASON)
    assert refused.value.code == "invalid_selection"
    assert [e.code for e in refused.value.errors or []] == ["wrong_number_of_children"]
