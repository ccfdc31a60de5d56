"""``jtai client webhook-verify``: what an integrator runs on a delivery it captured."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook
from typer.testing import CliRunner

from app.cli.main import cli

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
BODY = '{"id":"evt_7","type":"request.opened"}'


def _signed(moment: datetime, body: str = BODY, secret: str = SECRET) -> list[str]:
    signature = Webhook(secret).sign("evt_7", moment, body)
    stamp = str(int(moment.timestamp()))
    return ["--id", "evt_7", "--timestamp", stamp, "--signature", signature]


def _verify(args: list[str], body: str = BODY, secret: str = SECRET) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["client", "webhook-verify", "--secret", secret, *args], input=body
    )
    return result.exit_code, result.output


def test_a_true_signature_is_valid() -> None:
    code, output = _verify(_signed(datetime.now(UTC)))
    assert code == 0
    assert output.startswith("valid: evt_7")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("body", "signature does not match"),
        ("secret", "signature does not match"),
        ("old", "timestamp too old"),
        ("missing", "missing webhook-signature"),
        ("bad secret", "not a webhook secret"),
    ],
)
def test_what_failed_is_named(change: str, reason: str) -> None:
    now = datetime.now(UTC)
    args = _signed(now - timedelta(minutes=10) if change == "old" else now)
    body = BODY.replace("opened", "withdrawn") if change == "body" else BODY
    other = "whsec_" + base64.b64encode(b"o" * 32).decode()
    secret = {"secret": other, "bad secret": ""}.get(change, SECRET)
    if change == "missing":
        args = args[:4]
    code, output = _verify(args, body, secret)
    assert code == 1
    assert reason in output


def test_it_reads_the_headers_from_the_environment() -> None:
    stamp = str(int(time.time()))
    signature = Webhook(SECRET).sign("evt_7", datetime.fromtimestamp(int(stamp), UTC), BODY)
    env = {"WEBHOOK_ID": "evt_7", "WEBHOOK_TIMESTAMP": stamp, "WEBHOOK_SIGNATURE": signature}
    result = CliRunner().invoke(
        cli, ["client", "webhook-verify", "--secret", SECRET], input=BODY, env=env
    )
    assert result.exit_code == 0, result.output
