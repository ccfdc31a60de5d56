"""The jtai command as an operator runs it: bootstrap, demo, configuration errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.config import Environment, Settings
from app.main import create_app

JTAI = [sys.executable, "-m", "app.cli"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*JTAI, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        "JTAI_VAR_DIR": str(tmp_path / "var"),
        "JTAI_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }


def _app_for(env: dict[str, str]) -> TestClient:
    settings = Settings(
        environment=Environment.TEST,
        var_dir=Path(env["JTAI_VAR_DIR"]),
        database_url=env["JTAI_DATABASE_URL"],
    )
    return TestClient(create_app(settings))


def test_create_operator_prints_credentials_that_work(cli_env: dict[str, str]) -> None:
    result = _run(["admin", "create-operator", "--name", "first operator"], cli_env)
    assert result.returncode == 0, result.stderr
    credentials = json.loads(result.stdout)
    assert set(credentials) == {"client_id", "client_secret"}
    key_file = Path(cli_env["JTAI_VAR_DIR"]) / "jwt-signing-key.pem"
    with _app_for(cli_env) as client:
        token = client.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials", **credentials},
        )
        assert token.status_code == 200
        me = client.get(
            "/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
        assert me.json()["roles"] == ["operator"]
        assert me.json()["organisation"]["kind"] == "platform"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_demo_prints_working_credentials_and_can_run_again(cli_env: dict[str, str]) -> None:
    first = _run(["demo"], cli_env)
    assert first.returncode == 0, first.stderr
    world = json.loads(first.stdout)
    assert set(world["inspections"]) == {"mental-health", "domestic-abuse"}
    second = json.loads(_run(["demo"], cli_env).stdout)
    assert second["inspections"] == world["inspections"]
    lead = second["clients"]["lead_inspector"]
    assert lead["client_secret"] != world["clients"]["lead_inspector"]["client_secret"]
    with _app_for(cli_env) as client:
        token = client.post(
            "/v1/auth/token", data={"grant_type": "client_credentials", **lead}
        ).json()["access_token"]
        listed = client.get("/v1/inspections", headers={"Authorization": f"Bearer {token}"})
        assert {item["theme"] for item in listed.json()["items"]} == {
            "mental-health",
            "domestic-abuse",
        }
        # The demo leaves something to explore: a list, a tracked selection, documents.
        base = f"/v1/inspections/{second['inspections']['mental-health']}"
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get(f"{base}/lists/children-in-need", headers=auth).json()["total"] == 8
        tracked = client.get(f"{base}/selections/tracked", headers=auth).json()["child_ids"]
        assert len(tracked) == 5
        requests = client.get(f"{base}/requests", headers=auth).json()
        assert any(r["documents"] for r in requests if r["kind"] == "case_file")


def test_incoherent_configuration_is_one_line_naming_the_setting(cli_env: dict[str, str]) -> None:
    result = _run(["admin", "create-operator", "--name", "x"], cli_env | {"JTAI_STORAGE": "s3"})
    assert result.returncode == 2
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "JTAI_S3_BUCKET" in message


def test_bad_value_names_the_setting(cli_env: dict[str, str]) -> None:
    result = _run(["demo"], cli_env | {"JTAI_TOKEN_TTL_SECONDS": "forever"})
    assert result.returncode == 2
    assert "JTAI_TOKEN_TTL_SECONDS" in result.stderr


def test_audit_anchor_then_verify(cli_env: dict[str, str]) -> None:
    assert _run(["admin", "create-operator", "--name", "op"], cli_env).returncode == 0
    anchored = _run(["audit", "anchor"], cli_env)
    assert anchored.returncode == 0, anchored.stderr
    line = json.loads(anchored.stdout)
    assert line["seq"] >= 1
    assert len(line["hash"]) == 64
    verified = _run(["audit", "verify"], cli_env)
    assert verified.returncode == 0
    assert json.loads(verified.stdout)["valid"] is True
