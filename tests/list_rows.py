"""Rows that pass the mental-health children-in-need rules, dated from today so they stay valid."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.themes.registry import builtin_themes
from tests.factories import World


def birth_date(age: int, today: date | None = None) -> date:
    today = today or date.today()
    try:
        birthday = today.replace(year=today.year - age)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - age, day=28)
    return birthday - timedelta(days=30)


def cin_row(child_id: str, age: int = 12, concern: str = "Y", **extra: Any) -> dict[str, Any]:
    today = date.today()
    row: dict[str, Any] = {
        "child_id": child_id,
        "gender": "F",
        "ethnicity": "WBRI",
        "date_of_birth": birth_date(age).isoformat(),
        "age_years": age,
        "disability": "N",
        "cin_start_date": (today - timedelta(days=200)).isoformat(),
        "primary_need": "N1",
        "last_seen_date": (today - timedelta(days=10)).isoformat(),
        "case_status": "CIN",
        "allocated_team": "North",
        "allocated_worker": "A. Worker",
    }
    if 10 <= age <= 15:
        row |= {"mh_concern": concern, "mh_support_need": "N"}
        if concern == "Y":
            spec = builtin_themes().get("mental-health").get_list("children-in-need")
            assert spec is not None
            row |= dict.fromkeys(spec.required_when_equals("mh_concern", "Y"), "N")
    return row | extra


def push_json(
    client: TestClient,
    world: World,
    list_key: str,
    rows: list[dict[str, Any]],
    actor: str = "agency",
    **params: Any,
) -> Any:
    return client.put(
        f"/v1/inspections/{world.inspection_id}/lists/{list_key}",
        json={"rows": rows},
        params=params,
        headers=getattr(world, actor).headers,
    )


def _common(child_id: str) -> dict[str, Any]:
    return {
        "child_id": child_id,
        "gender": "M",
        "ethnicity": "WBRI",
        "age_years": 9,
        "date_of_birth": birth_date(9).isoformat(),
        "disability": "N",
        "allocated_team": "South",
        "allocated_worker": "B. Worker",
    }


def cp_row(child_id: str) -> dict[str, Any]:
    start = (date.today() - timedelta(days=90)).isoformat()
    return _common(child_id) | {
        "cpp_start_date": start,
        "cpp_initial_category": "NEG",
        "cpp_latest_category": "NEG",
        "epo_or_pp_6m": "N",
        "previous_cpp_count": 0,
    }


def cla_row(child_id: str) -> dict[str, Any]:
    start = (date.today() - timedelta(days=120)).isoformat()
    return _common(child_id) | {
        "uasc_12m": "N",
        "cla_start_date": start,
        "category_of_need": "N1",
        "repeat_cla_12m": "N",
        "legal_status_start_date": start,
        "legal_status": "C2",
        "placements_12m": 1,
        "placement_start_date": start,
        "placement_type": "U4",
        "placement_provider": "PR1",
        "placement_postcode": "M1 2WD",
        "placement_in_out": "IN",
        "placement_la": "Demoshire",
        "missing_12m": 0,
        "absent_12m": 0,
    }


def list_page(
    client: TestClient, world: World, list_key: str = "children-in-need", **query: Any
) -> dict[str, Any]:
    """A page of the list as the lead inspector reads it (asserting it answered 200)."""
    answer = client.get(
        f"/v1/inspections/{world.inspection_id}/lists/{list_key}",
        params=query,
        headers=world.lead.headers,
    )
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def child_ids(page: dict[str, Any]) -> list[str]:
    return [item["child_id"] for item in page["items"]]
