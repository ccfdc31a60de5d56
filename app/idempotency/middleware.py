"""Idempotency-Key on every POST: a retry gets the first answer, never a second effect.

The same key with the same request replays the stored response; the same key with a
different request is 422; a retry while the first is still running is 409. Keys live 24
hours per client. Upload bodies are streamed, not buffered, so for them the request is
recognised by path and declared length rather than by a hash of the bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from anyio import to_thread
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.tokens import InvalidToken
from app.core.database import utcnow
from app.core.errors import PROBLEM_MEDIA_TYPE
from app.core.request_context import current_request_id
from app.idempotency.models import IdempotencyRecord

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
RETENTION = timedelta(hours=24)
ABANDONED = timedelta(minutes=15)  # an in-progress record older than this lost its process
STREAMED_PATHS = (re.compile(r"^/v1/requests/[^/]+/documents$"),)
REPLAYED_HEADERS = ("content-type", "location", "etag")


@dataclass
class _Captured:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, state_getter: Any) -> None:
        self.app = app
        self.state_getter = state_getter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key")
        client_id = self._client_id(scope) if key and scope["method"] == "POST" else None
        if scope["type"] != "http" or key is None or client_id is None:
            await self.app(scope, receive, send)
            return
        if not KEY_PATTERN.match(key):
            await _problem(
                send, 400, "invalid_idempotency_key", "Use 1-255 visible ASCII characters."
            )
            return
        receive, fingerprint = await _fingerprint(scope, receive)
        state = self.state_getter()
        outcome = await to_thread.run_sync(
            _claim, state.session_factory, client_id, key, fingerprint
        )
        if isinstance(outcome, IdempotencyRecord):
            await _replay(send, outcome)
            return
        if outcome is not None:
            await _problem(send, *outcome)
            return
        captured = _Captured()

        async def capturing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured.status = message["status"]
                captured.headers = {
                    name.decode("latin-1").lower(): value.decode("latin-1")
                    for name, value in message.get("headers", [])
                }
            elif message["type"] == "http.response.body":
                captured.body += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, capturing_send)
        finally:
            await to_thread.run_sync(_settle, state.session_factory, client_id, key, captured)

    def _client_id(self, scope: Scope) -> uuid.UUID | None:
        authorization = _header(scope, b"authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            return self.state_getter().tokens.decode(token.strip()).subject  # type: ignore[no-any-return]
        except InvalidToken:
            return None  # the app itself answers 401


def _header(scope: Scope, name: bytes) -> str | None:
    for header, value in scope.get("headers", []):
        if header == name:
            return str(value.decode("latin-1"))
    return None


async def _fingerprint(scope: Scope, receive: Receive) -> tuple[Receive, str]:
    """Hash what identifies the request; buffered bodies are replayed to the app after."""
    digest = hashlib.sha256(
        f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode()}".encode()
    )
    if any(pattern.match(scope["path"]) for pattern in STREAMED_PATHS):
        digest.update((_header(scope, b"content-length") or "").encode())
        return receive, digest.hexdigest()
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    body = b"".join(chunks)
    digest.update(body)
    delivered = False

    async def replay_receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay_receive, digest.hexdigest()


def _claim(factory: Any, client_id: uuid.UUID, key: str, fingerprint: str) -> Any:
    """None to go ahead; a stored record to replay; or (status, code, detail) to refuse."""
    with factory() as session:
        existing = session.get(IdempotencyRecord, (client_id, key))
        now = utcnow()
        if existing is not None and _stale(existing, now):
            session.delete(existing)
            session.flush()
            existing = None
        if existing is None:
            session.add(
                IdempotencyRecord(
                    client_id=client_id, key=key, fingerprint=fingerprint, state="in_progress"
                )
            )
            try:
                session.commit()
            except IntegrityError:
                return 409, "idempotency_request_in_progress", "A request with this key is running."
            return None
        if existing.fingerprint != fingerprint:
            return 422, "idempotency_key_reused", "This key was used for a different request."
        if existing.state != "done":
            return 409, "idempotency_request_in_progress", "A request with this key is running."
        session.expunge(existing)
        return existing


def _stale(record: IdempotencyRecord, now: Any) -> bool:
    age = now - record.created_at
    return age > RETENTION or (record.state != "done" and age > ABANDONED)


CLIENT_CLOSED_REQUEST = 499


def _settle(factory: Any, client_id: uuid.UUID, key: str, captured: _Captured) -> None:
    """Keep answers the client should see again; forget failures so a retry can run."""
    with factory() as session:
        # 499: the client went away mid-request, so nobody saw an answer and its retry must run.
        if captured.status in (0, CLIENT_CLOSED_REQUEST) or captured.status >= 500:
            session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.client_id == client_id, IdempotencyRecord.key == key
                )
            )
        else:
            record = session.execute(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.client_id == client_id, IdempotencyRecord.key == key
                )
            ).scalar_one_or_none()
            if record is not None:
                record.state, record.status = "done", captured.status
                record.headers = {
                    name: captured.headers[name]
                    for name in REPLAYED_HEADERS
                    if name in captured.headers
                }
                record.body = bytes(captured.body)
        session.commit()


async def _replay(send: Send, record: IdempotencyRecord) -> None:
    headers = [(name.encode(), value.encode()) for name, value in (record.headers or {}).items()]
    headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": record.status or 200, "headers": headers})
    await send({"type": "http.response.body", "body": record.body or b""})


async def _problem(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Idempotency conflict" if status != 400 else "Bad request",
            "status": status,
            "code": code,
            "detail": detail,
            "request_id": current_request_id(),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
