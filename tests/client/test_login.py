"""Logging in: credentials from the environment or a private file, a cached 0600 token."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from typer.testing import CliRunner

from app.cli.main import cli as jtai
from tests.client.helpers import Cli, env_for
from tests.factories import Factory, World


def test_login_with_environment_credentials_caches_a_private_token(cli: Cli, world: World) -> None:
    result = cli.run("login", actor=world.agency)
    assert result.exit_code == 0, result.output
    assert str(world.agency.client_id) in result.output
    assert "agency" in result.output
    assert stat.S_IMODE(cli.token_file.stat().st_mode) == 0o600
    cached = json.loads(cli.token_file.read_text())
    assert cached["client_id"] == str(world.agency.client_id)
    assert cached["access_token"]
    assert world.agency.secret not in cli.token_file.read_text()


def test_other_commands_reuse_the_token_without_credentials(
    cli: Cli, world: World, factory: Factory, tmp_path: Path
) -> None:
    assert cli.run("login", actor=world.agency).exit_code == 0
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    document_id = factory.document(world.agency, request_id)
    result = cli.run("download", str(document_id), "--output", str(tmp_path), "--no-progress")
    assert result.exit_code == 0, result.output


def test_an_expired_token_is_renewed_with_the_credentials(
    cli: Cli, world: World, factory: Factory, tmp_path: Path
) -> None:
    assert cli.run("login", actor=world.agency).exit_code == 0
    cached = json.loads(cli.token_file.read_text())
    stale = cached | {"expires_at": 1.0, "access_token": "expired"}
    cli.token_file.write_text(json.dumps(stale))
    request_id = factory.document_request(world.inspection_id, world.agency.organisation_id)
    document_id = factory.document(world.agency, request_id)

    without = cli.run("download", str(document_id), "-o", str(tmp_path), "--no-progress")
    assert without.exit_code == 2
    assert "jtai client login" in without.output

    renewed = cli.run(
        "download", str(document_id), "-o", str(tmp_path), "--no-progress", actor=world.agency
    )
    assert renewed.exit_code == 0, renewed.output
    assert json.loads(cli.token_file.read_text())["access_token"] not in ("expired", "")


def test_a_credentials_file_others_can_read_is_refused(
    cli: Cli, world: World, tmp_path: Path
) -> None:
    secrets = tmp_path / "credentials.json"
    secrets.write_text(
        json.dumps({"client_id": str(world.agency.client_id), "client_secret": world.agency.secret})
    )
    secrets.chmod(0o644)
    refused = cli.run("login", "--credentials-file", str(secrets))
    assert refused.exit_code == 2
    assert "chmod 600" in refused.output
    assert not cli.token_file.exists()

    secrets.chmod(0o600)
    accepted = cli.run("login", "--credentials-file", str(secrets))
    assert accepted.exit_code == 0, accepted.output


def test_wrong_credentials_fail_without_retrying(cli: Cli, world: World) -> None:
    result = cli.run("login", env=env_for(world.agency) | {"JTAI_CLIENT_SECRET": "wrong"})
    assert result.exit_code == 1
    assert "invalid_client" in result.output
    assert cli.sleeps == []


def test_the_secret_cannot_be_given_on_the_command_line(cli: Cli, world: World) -> None:
    result = cli.run("login", "--client-secret", world.agency.secret)
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_jtai_has_the_client_commands() -> None:
    result = CliRunner().invoke(jtai, ["client", "--help"])
    assert result.exit_code == 0
    for command in ("login", "push-list", "upload", "download"):
        assert command in result.output
