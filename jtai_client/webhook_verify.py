"""``jtai client webhook-verify``: check a delivery's signature as a receiver must, with the
Standard Webhooks library (the same check an integrator's own receiver makes)."""

from __future__ import annotations

import sys
from typing import Annotated, NoReturn

import typer
from standardwebhooks.webhooks import (
    EmptyWebhookSecretError,
    Webhook,
    WebhookVerificationError,
)


def webhook_verify(
    secret: Annotated[
        str,
        typer.Option(
            "--secret",
            envvar="JTAI_WEBHOOK_SECRET",
            help="The webhook's secret, whsec_... (as shown when subscribing)",
        ),
    ],
    message_id: Annotated[
        str | None, typer.Option("--id", envvar="WEBHOOK_ID", help="The webhook-id header")
    ] = None,
    timestamp: Annotated[
        str | None,
        typer.Option("--timestamp", envvar="WEBHOOK_TIMESTAMP", help="The webhook-timestamp"),
    ] = None,
    signature: Annotated[
        str | None,
        typer.Option("--signature", envvar="WEBHOOK_SIGNATURE", help="The webhook-signature"),
    ] = None,
) -> None:
    """Verify a webhook delivery: the body on standard input, the headers as options. Exits
    0 and says "valid", or 1 naming what failed (a missing header, a timestamp more than
    five minutes off, a signature that does not match, a secret that is not one)."""
    headers = {"webhook-id": message_id, "webhook-timestamp": timestamp}
    headers["webhook-signature"] = signature
    missing = [name for name, value in headers.items() if not value]
    if missing:
        _invalid("missing " + ", ".join(missing))
    body = sys.stdin.buffer.read()
    try:
        verifier = Webhook(secret)
    except (EmptyWebhookSecretError, ValueError, RuntimeError):
        _invalid("the secret is not a webhook secret (whsec_<base64>)")
    try:
        text = body.decode("utf-8")
        verifier.verify(text, {k: v for k, v in headers.items() if v}, json_parse=False)
    except UnicodeDecodeError:
        _invalid("the payload is not UTF-8")
    except WebhookVerificationError as exc:
        _invalid(_reason(str(exc)))
    except ValueError:
        _invalid("the signature header is malformed")
    typer.echo(f"valid: {message_id} signed at {timestamp}")


def _reason(message: str) -> str:
    known = {
        "Message timestamp too old": "timestamp too old (more than 5 minutes)",
        "Message timestamp too new": "timestamp too new (more than 5 minutes ahead)",
        "No matching signature found": "signature does not match the payload and secret",
        "Invalid Signature Headers": "timestamp is not a number",
    }
    return known.get(message, message)


def _invalid(reason: str) -> NoReturn:
    typer.echo(f"invalid: {reason}", err=True)
    raise typer.Exit(1)
