"""Demo activity on the mental-health inspection, made through the API itself (in process),
so that what a newcomer explores was validated exactly as a real agency's would be."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from app.themes.registry import builtin_themes

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def _follow_ups() -> tuple[str, ...]:
    spec = builtin_themes().get("mental-health").get_list("children-in-need")
    assert spec is not None
    return spec.required_when_equals("mh_concern", "Y")


def child_row(number: int, today: date) -> dict[str, Any]:
    age = 10 + number % 6
    born = today.replace(year=today.year - age) - timedelta(days=40 + number)
    return {
        "child_id": f"DEMO{number:03d}",
        "gender": "F" if number % 2 else "M",
        "ethnicity": "WBRI",
        "date_of_birth": born.isoformat(),
        "age_years": age,
        "disability": "N",
        "cin_start_date": (today - timedelta(days=150)).isoformat(),
        "primary_need": "N1",
        "last_seen_date": (today - timedelta(days=7)).isoformat(),
        "case_status": "CIN",
        "allocated_team": "Demoshire North",
        "allocated_worker": "A. Worker",
        "mh_concern": "Y",
        "mh_support_need": "N",
    } | dict.fromkeys(_follow_ups(), "N")


class _Caller:
    def __init__(self, api: TestClient, credentials: dict[str, str]) -> None:
        token = api.post(
            "/v1/auth/token", data={"grant_type": "client_credentials", **credentials}
        ).json()["access_token"]
        self.api, self.headers = api, {"Authorization": f"Bearer {token}"}

    def send(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.api.request(method, url, headers=self.headers, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"demo step {method} {url} failed: {response.text[:300]}")
        return response.json()


def _answer_case_files(council: _Caller, base: str) -> None:
    """Per tracked child: the chronology sent, and "none held" for the return home
    interview (the child was never missing); the other kinds are left owed."""
    for request in council.send("GET", f"{base}/requests"):
        if request["kind"] != "case_file":
            continue
        url, child = f"/v1/requests/{request['id']}", request["child_id"]
        files = {"file": (f"{child}_chronology.pdf", PDF, "application/pdf")}
        council.send("POST", f"{url}/documents", data={"kind": "chronology"}, files=files)
        reason = f"{child} has never been reported missing: no return home interview is held."
        body = {"reason": reason, "kind": "return-home-interview"}
        council.send("POST", f"{url}/nil-return", json=body)


def play(settings: Settings, world: dict[str, Any]) -> None:
    """Lists (one compiled jointly by the council and health), a tracked selection,
    documents and nil returns, an evaluation, a tracking record and a request of the lead's."""
    app = create_app(settings.model_copy(update={"sweep_interval_seconds": 0}))
    with TestClient(app) as api:
        council = _Caller(api, world["clients"]["local_authority"])
        health = _Caller(api, world["clients"]["health"])
        lead = _Caller(api, world["clients"]["lead_inspector"])
        base = f"/v1/inspections/{world['inspections']['mental-health']}"
        rows = [child_row(n, date.today()) for n in range(1, 9)]
        council.send("PUT", f"{base}/lists/children-in-need", json={"rows": rows})
        # Children in need is compiled jointly: health adds its own contribution, so the
        # merged list shows DEMO001 twice (once per supplier) and a child only health knows.
        camhs = {"allocated_team": "Demoshire CAMHS", "allocated_worker": "C. Clinician"}
        health_rows = [child_row(n, date.today()) | camhs for n in (1, 9)]
        health.send("PUT", f"{base}/lists/children-in-need", json={"rows": health_rows})
        tracked = [row["child_id"] for row in rows[:5]]
        lead.send("PUT", f"{base}/selections/tracked", json={"child_ids": tracked})
        _answer_case_files(council, base)
        theme = lead.send("GET", "/v1/themes/mental-health")
        answers = dict.fromkeys(theme["evaluation"]["questions"], "Demo answer.")
        participants = lead.send("GET", base)["participants"]
        health_ids = [p["organisation_id"] for p in participants if p["kind"] == "health"]
        joint = {"answers": answers, "contributing_organisation_ids": health_ids}
        council.send("PUT", f"{base}/children/{tracked[0]}/evaluations/joint", json=joint)
        # The lead asks health for a plan the case file lacks; it stays owed in the demo.
        due = datetime.combine(date.today() + timedelta(days=7), time(17), UTC).isoformat()
        missing = f"{tracked[0]}'s CAMHS care plan, missing from the case file"
        ask = {"organisation_id": health_ids[0], "title": missing, "child_id": tracked[0]}
        lead.send("POST", f"{base}/requests", json=ask | {"due_at": due})
    app.state.jtai.engine.dispose()
    app.state.jtai.list_reader.close()  # its worker processes, not the served app's
