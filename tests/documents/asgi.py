"""Calling the app as an ASGI server would, to control what arrives and when.

TestClient hands the app the whole body in one message; these tests need a body that arrives
in pieces, stops (the client vanished), or has something happen between its pieces.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

BOUNDARY = "jtai-test-boundary"


def multipart_head(filename: str, boundary: str = BOUNDARY) -> bytes:
    return (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()


def multipart_tail(boundary: str = BOUNDARY) -> bytes:
    return f"\r\n--{boundary}--\r\n".encode()


@dataclass
class Exchange:
    """What the app sent back, and how much of the body it asked for."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    pulled: int = 0

    @property
    def status(self) -> int | None:
        starts = [m for m in self.messages if m["type"] == "http.response.start"]
        return int(starts[0]["status"]) if starts else None

    @property
    def body(self) -> bytes:
        return b"".join(
            m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"
        )


async def drive(
    app: FastAPI,
    method: str,
    path: str,
    headers: dict[str, str],
    chunks: list[bytes],
    *,
    then_disconnect: bool = False,
    between: Callable[[int], Awaitable[None]] | None = None,
) -> Exchange:
    """Send ``chunks`` one message each; ``between(n)`` runs before chunk n (from 1) is handed
    over. With ``then_disconnect`` the client vanishes after the last chunk instead of ending
    the body. Whatever the app raises is raised here: a server would log it as a crash."""
    exchange = Exchange()
    pending = list(chunks)

    async def receive() -> dict[str, Any]:
        if not pending:
            return {"type": "http.disconnect"}
        if between is not None and exchange.pulled > 0:
            await between(exchange.pulled)
        exchange.pulled += 1
        chunk = pending.pop(0)
        more = bool(pending) or then_disconnect
        return {"type": "http.request", "body": chunk, "more_body": more}

    async def send(message: dict[str, Any]) -> None:
        exchange.messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    await app(scope, receive, send)
    return exchange
