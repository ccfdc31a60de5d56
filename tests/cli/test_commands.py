"""The jtai command as an operator runs it: bootstrap, demo, configuration errors.

In-process (the ``jtai`` fixture) on the test database, but for one run of the installed
``jtai`` script that makes sure the entry point itself starts, migrates and answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from fastapi.testclient import TestClient

from app.cli.demo import base_url
from app.core.config import Environment, Settings
from app.main import create_app

Jtai = Callable[..., Result]


def _works_as_operator(client: TestClient, credentials: dict[str, str]) -> None:
    token = client.post("/v1/auth/token", data={"grant_type": "client_credentials", **credentials})
    assert token.status_code == 200
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["roles"] == ["operator"]
    assert me.json()["organisation"]["kind"] == "platform"


def test_the_installed_command_migrates_a_new_database_and_creates_an_operator(
    tmp_path: Path,
) -> None:
    var = tmp_path / "var"
    env = {
        **os.environ,
        "JTAI_VAR_DIR": str(var),
        "JTAI_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }
    jtai = Path(sys.executable).parent / "jtai"
    result = subprocess.run(
        [jtai, "admin", "create-operator", "--name", "first operator"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    credentials = json.loads(result.stdout)
    assert set(credentials) == {"client_id", "client_secret"}
    settings = Settings(
        environment=Environment.TEST, var_dir=var, database_url=env["JTAI_DATABASE_URL"]
    )
    app = create_app(settings)
    with TestClient(app) as client:
        _works_as_operator(client, credentials)
    app.state.jtai.engine.dispose()
    assert (var / "jwt-signing-key.pem").stat().st_mode & 0o777 == 0o600


def test_create_operator_prints_credentials_that_work(jtai: Jtai, client: TestClient) -> None:
    result = jtai("admin", "create-operator", "--name", "first operator")
    assert result.exit_code == 0, result.output
    credentials = json.loads(result.stdout)
    assert set(credentials) == {"client_id", "client_secret"}
    _works_as_operator(client, credentials)


def test_demo_prints_working_credentials_and_can_run_again(
    jtai: Jtai, client: TestClient, var_dir: Path
) -> None:
    first = jtai("demo", "--port", "8765")
    assert first.exit_code == 0, first.output
    world = json.loads(first.stdout)
    assert set(world["inspections"]) == {"mental-health", "domestic-abuse"}
    assert world["base_url"] == "http://127.0.0.1:8765"  # where the server is told to listen
    # The same world in a file a shell reads the secrets from, readable only by its owner.
    written = var_dir / "demo.json"
    assert json.loads(written.read_text()) == world
    assert written.stat().st_mode & 0o777 == 0o600
    second = json.loads(jtai("demo").stdout)
    assert second["base_url"] == "http://127.0.0.1:8000"
    assert json.loads(written.read_text()) == second
    assert second["inspections"] == world["inspections"]
    lead = second["clients"]["lead_inspector"]
    assert lead["client_secret"] != world["clients"]["lead_inspector"]["client_secret"]
    token = client.post("/v1/auth/token", data={"grant_type": "client_credentials", **lead}).json()[
        "access_token"
    ]
    listed = client.get("/v1/inspections", headers={"Authorization": f"Bearer {token}"})
    assert {item["theme"] for item in listed.json()["items"]} == {
        "mental-health",
        "domestic-abuse",
    }
    # The demo leaves something to explore: a list, a tracked selection, documents and
    # nil returns.
    base = f"/v1/inspections/{second['inspections']['mental-health']}"
    auth = {"Authorization": f"Bearer {token}"}
    # Children in need merges the council's eight rows and health's two (one child in both).
    merged = client.get(f"{base}/lists/children-in-need", headers=auth).json()
    assert merged["total"] == 10
    suppliers = {
        i["supplier"]["organisation_name"] for i in merged["items"] if i["child_id"] == "DEMO001"
    }
    assert suppliers == {"Demoshire County Council", "Demoshire Integrated Care Board"}
    tracked = client.get(f"{base}/selections/tracked", headers=auth).json()["child_ids"]
    assert len(tracked) == 5
    requests = client.get(f"{base}/requests", headers=auth).json()
    case_files = [r for r in requests if r["kind"] == "case_file" and r["documents"]]
    assert len(case_files) == 5  # the council's, one per tracked child
    assert all(r["state"] == "partly_answered" for r in case_files)
    assert {d["document_kind"] for r in case_files for d in r["documents"]} == {"chronology"}
    assert {n["document_kind"] for r in case_files for n in r["nil_returns"]} == {
        "return-home-interview"
    }
    # Made by the same use cases as the API's, each inspection has its theme's requests
    # (the domestic-abuse one once had none: the demo skipped the routers' follow-ups).
    for theme, inspection_id in second["inspections"].items():
        asked = client.get(f"/v1/inspections/{inspection_id}/requests", headers=auth).json()
        assert any(r["kind"] == "information_item" for r in asked), theme
    _the_council_has_its_own_administrator(client, second["clients"])


def test_the_demo_runs_without_a_test_client() -> None:
    """The demo acts through the use cases, so starting the service loads no test client
    (whose import warned at every start-up) and raises no warning at all."""
    check = (
        "import sys, app.cli.main, app.cli.demo_activity, app.main; "
        "assert not {'fastapi.testclient', 'starlette.testclient'} & set(sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", check], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:9000"),
        ("0.0.0.0", "http://127.0.0.1:9000"),  # noqa: S104
        ("::", "http://[::1]:9000"),
        ("jtai.example", "http://jtai.example:9000"),
    ],
)
def test_the_printed_base_url_is_where_a_client_reaches_the_server(host: str, url: str) -> None:
    assert base_url(host, 9000) == url


def _headers(client: TestClient, credentials: dict[str, str]) -> dict[str, str]:
    form = {"grant_type": "client_credentials", **credentials}
    return {
        "Authorization": f"Bearer {client.post('/v1/auth/token', data=form).json()['access_token']}"
    }


def _the_council_has_its_own_administrator(
    client: TestClient, clients: dict[str, dict[str, str]]
) -> None:
    """The demo's council is administered: its administrator makes its clients, the
    operator may not (the demo itself made them as the platform, which no rule binds)."""
    admin = _headers(client, clients["local_authority_admin"])
    council = client.get("/v1/me", headers=admin).json()["organisation"]["id"]
    body = {"name": "tour system", "roles": ["agency"]}
    url = f"/v1/organisations/{council}/clients"
    assert client.post(url, json=body, headers=admin).status_code == 201
    refused = client.post(url, json=body, headers=_headers(client, clients["operator"]))
    assert refused.json()["code"] == "organisation_has_administrator"
    events = client.get(f"/v1/organisations/{council}/credential-events", headers=admin).json()
    assert events["total"] >= 4  # the demo's two clients, rotated on the second run, and ours


def test_create_admin_makes_an_organisations_administrator(jtai: Jtai, client: TestClient) -> None:
    operator = json.loads(jtai("admin", "create-operator", "--name", "desk").stdout)
    operator_headers = _headers(client, operator)
    made = client.post(
        "/v1/organisations",
        json={"name": "Clishire Police", "kind": "police"},
        headers=operator_headers,
    ).json()
    result = jtai("admin", "create-admin", "--organisation", made["id"], "--name", "police admin")
    assert result.exit_code == 0, result.output
    admin = json.loads(result.stdout)
    assert set(admin) == {"client_id", "client_secret"}
    me = client.get("/v1/me", headers=_headers(client, admin)).json()
    assert me["roles"] == ["org_admin"]
    assert me["organisation"]["id"] == made["id"]
    refused = client.post(
        f"/v1/organisations/{made['id']}/clients",
        json={"name": "operator's", "roles": ["agency"]},
        headers=operator_headers,
    )
    assert refused.status_code == 403
    unknown = jtai("admin", "create-admin", "--organisation", str(uuid.uuid4()), "--name", "x")
    assert unknown.exit_code == 1
    assert "No such organisation" in unknown.stderr


def test_incoherent_configuration_is_one_line_naming_the_setting(jtai: Jtai) -> None:
    result = jtai("admin", "create-operator", "--name", "x", JTAI_STORAGE="s3")
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "JTAI_S3_BUCKET" in message


def test_serve_reads_trusted_issuers_keys_before_serving(jtai: Jtai, tmp_path: Path) -> None:
    entry = {
        "issuer": "https://idp.example",
        "jwks_file": str(tmp_path / "missing.json"),
        "audience": "jtai",
        "organisation_id": "8d0e1f0c-6f5a-4a0b-9b8e-3f1d2c4b5a69",
    }
    result = jtai("serve", JTAI_TRUSTED_ISSUERS=json.dumps([entry]))
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "JTAI_TRUSTED_ISSUERS[0].jwks_file: cannot read" in message


def test_bad_value_names_the_setting(jtai: Jtai) -> None:
    result = jtai("demo", JTAI_TOKEN_TTL_SECONDS="forever")
    assert result.exit_code == 2
    assert "JTAI_TOKEN_TTL_SECONDS" in result.stderr


def test_audit_anchor_then_verify(jtai: Jtai) -> None:
    assert jtai("admin", "create-operator", "--name", "op").exit_code == 0
    anchored = jtai("audit", "anchor")
    assert anchored.exit_code == 0, anchored.output
    line = json.loads(anchored.stdout)
    assert line["seq"] >= 1
    assert len(line["hash"]) == 64
    verified = jtai("audit", "verify")
    assert verified.exit_code == 0
    assert json.loads(verified.stdout)["valid"] is True
    assert json.loads(verified.stdout)["from_seq"] == line["seq"]
    whole = jtai("audit", "verify", "--full")
    assert whole.exit_code == 0, whole.output
    assert json.loads(whole.stdout)["from_seq"] == 0
    assert json.loads(whole.stdout)["events_checked"] == line["seq"]
