"""One signed POST to a webhook's receiver, to the address checked for it.

The address is resolved and checked (app.webhooks.address) for every attempt, and the
connection goes to that very address, with the URL's host in the Host header and as the TLS
server name, so certificates are still verified against the name. Redirects are not followed,
at most MAX_BODY_BYTES of the answer are read (and never kept), and it all takes at most
TIMEOUT_SECONDS per phase.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx
from standardwebhooks.webhooks import Webhook as Signer

from app.webhooks.address import AddressRefused, AddressRules, resolve

TIMEOUT_SECONDS = 10.0
MAX_BODY_BYTES = 64 * 1024
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class Sent:
    """What the receiver answered (None: no answer), or what went wrong, briefly."""

    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def http_client() -> httpx.Client:
    """One client for a worker's threads. No connection is kept: a pooled connection to an
    address could otherwise be reused for another host name (and its TLS name) there."""
    return httpx.Client(
        timeout=httpx.Timeout(TIMEOUT_SECONDS),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0, max_connections=256),
    )


def signed_headers(secret: str, message_id: str, moment: datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers, signed by the specification's own library."""
    signature = Signer(secret).sign(message_id, moment, body)
    return {
        "content-type": "application/json",
        "user-agent": "jtai-exchange-webhooks",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }


def post(
    client: httpx.Client, url: str, rules: AddressRules, headers: dict[str, str], body: str
) -> Sent:
    try:
        target = resolve(
            url, allow_insecure=rules.allow_insecure, allow_private=rules.allow_private
        )
    except AddressRefused as exc:
        return Sent(None, _bounded(f"address refused: {exc}"))
    request = client.build_request(
        "POST",
        target.connect_url,
        headers=headers | {"host": target.host_header},
        content=body.encode("utf-8"),
        extensions={"sni_hostname": target.host},
    )
    try:
        response = client.send(request, stream=True)
        try:
            _drain(response)
        finally:
            response.close()
    except httpx.TimeoutException:
        return Sent(None, "timed out")
    except httpx.HTTPError as exc:
        return Sent(None, _bounded(f"{type(exc).__name__}: {exc}"))
    if 300 <= response.status_code < 400:
        return Sent(response.status_code, "redirects are not followed")
    return Sent(response.status_code, None)


def _drain(response: httpx.Response) -> None:
    """Read the answer up to the cap: a receiver cannot make the worker read without end."""
    read = 0
    for chunk in response.iter_raw():
        read += len(chunk)
        if read >= MAX_BODY_BYTES:
            break


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
