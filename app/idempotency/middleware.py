"""Idempotency-Key on every POST: a retry gets the first answer, never a second effect.

The same key with the same request replays the stored response; the same key with a
different request is 422; a retry while the first is still running is 409. Keys live 24
hours per client. Beyond that:

- A stored answer goes only to a token the app itself would accept: a disabled client's
  token, or one issued before its secret was rotated, passes through to the app (401).
- No body is buffered: it is hashed as it passes to the app (a multipart form as a form:
  file names, fields and the SHA-256 of each part's bytes, see ``fingerprint``), so an
  upload stays streamed. A retry is read to its end and hashed, never kept, before it is
  answered: another file under the same key is 422 and never passes for the first. An answer
  to a request whose body was not read whole is not kept (nothing was done with it), so a
  retry of it simply runs again.
- An answer that carries a secret (its route declares it: ``edge(not_replayable=...)``) is
  never stored; a retry gets 409 ``not_replayable`` saying why.
- Each record names the first ID in its path, so purging an inspection or disabling a client
  deletes the answers about it (``service``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import anyio
from anyio import to_thread
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.bearer import bearer_token, token_claims
from app.auth.issuers import Claims
from app.auth.service import principal_for_token
from app.auth.tokens import InvalidToken
from app.core.database import utcnow
from app.core.edge import edge_match
from app.core.errors import send_problem
from app.idempotency.fingerprint import BodyDigest
from app.idempotency.models import IdempotencyRecord
from app.idempotency.service import RETENTION

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
ABANDONED = timedelta(minutes=15)  # an in-progress record older than this lost its process
REPLAYED_HEADERS = ("content-type", "location", "etag")
PENDING = ""  # the fingerprint of a first request until its body has passed

Refusal = tuple[int, str, str]  # status, code, detail
IN_PROGRESS: Refusal = (
    409,
    "idempotency_request_in_progress",
    "A request with this key is running.",
)
REUSED: Refusal = (422, "idempotency_key_reused", "This key was used for a different request.")


@dataclass(frozen=True)
class _Keyed:
    """A POST that carries a key: whose and which."""

    claims: Claims
    key: str

    @property
    def client_id(self) -> uuid.UUID:
        return self.claims.principal_id


@dataclass
class _Captured:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)


@dataclass(frozen=True)
class _Outcome:
    """How the first request went: its answer, its fingerprint and what it acted on."""

    captured: _Captured
    fingerprint: str | None  # None when its body was not read whole
    not_replayable: str | None  # why the route's answers are never kept, if they are not
    subject_id: uuid.UUID | None


class _PassThrough:
    """The token is not one the app accepts: let the app answer, and keep nothing."""


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, state_getter: Any) -> None:
        self.app = app
        self.state_getter = state_getter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key")
        keyed = scope["type"] == "http" and key is not None and scope["method"] == "POST"
        # In a worker thread: a trusted issuer's keys may have to be fetched.
        claims = await to_thread.run_sync(self._claims, scope) if keyed else None
        if key is None or claims is None:
            await self.app(scope, receive, send)
            return
        if not KEY_PATTERN.match(key):
            await _problem(
                send, 400, "invalid_idempotency_key", "Use 1-255 visible ASCII characters."
            )
            return
        request = _Keyed(claims, key)
        digest = BodyDigest(scope, _header(scope, b"content-type"))
        outcome = await to_thread.run_sync(self._claim, request)
        if isinstance(outcome, IdempotencyRecord):
            # A retry: its body is read and hashed, never kept, to know it is the same request.
            await _drain(receive, digest)
            await _answer_retry(send, outcome, digest.hexdigest())
        elif isinstance(outcome, tuple):
            await _problem(send, *outcome)
        elif isinstance(outcome, _PassThrough):
            await self.app(scope, receive, send)
        else:
            await self._first(scope, receive, send, request, digest)

    async def _first(
        self, scope: Scope, receive: Receive, send: Send, request: _Keyed, digest: BodyDigest
    ) -> None:
        """Run the first request with a key, hashing its body as the app reads it."""
        captured = _Captured()

        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                digest.feed(message.get("body", b""), message.get("more_body", False))
            return message

        async def capturing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                if 200 <= message["status"] < 300:
                    # A success must be recognisable when retried: whatever of the body the
                    # app left unread (form fields after a stored file, a body a route
                    # ignores) is read and hashed before the answer goes out.
                    await _drain(receive, digest)
                captured.status = message["status"]
                captured.headers = {
                    name.decode("latin-1").lower(): value.decode("latin-1")
                    for name, value in message.get("headers", [])
                }
            elif message["type"] == "http.response.body":
                captured.body += message.get("body", b"")
            await send(message)

        match = edge_match(scope)
        try:
            await self.app(scope, hashing_receive, capturing_send)
        finally:
            outcome = _Outcome(
                captured,
                digest.hexdigest(),
                match.traits.not_replayable,
                _subject(match.path_params),
            )
            # Shielded: a client that hung up must not leave the key "in progress" for 15
            # minutes, refusing its own retries.
            with anyio.CancelScope(shield=True):
                await to_thread.run_sync(self._settle, request, outcome)

    def _session(self) -> Session:
        factory: sessionmaker[Session] = self.state_getter().session_factory
        return factory()

    def _claims(self, scope: Scope) -> Claims | None:
        token = bearer_token(_header(scope, b"authorization"))
        if token is None:
            return None
        try:
            return token_claims(scope, self.state_getter().decoder, token)
        except InvalidToken:
            return None  # the app itself answers 401

    def _claim(self, request: _Keyed) -> IdempotencyRecord | Refusal | _PassThrough | None:
        """None to go ahead; a finished record to answer the retry from; or a refusal."""
        with self._session() as session:
            try:
                principal_for_token(session, request.claims)
            except InvalidToken:
                return _PassThrough()
            existing = session.get(IdempotencyRecord, (request.client_id, request.key))
            if existing is not None and _stale(existing):
                session.delete(existing)
                session.flush()
                existing = None
            if existing is not None:
                if existing.state != "done":
                    return IN_PROGRESS
                session.expunge(existing)
                return existing
            session.add(
                IdempotencyRecord(
                    client_id=request.client_id,
                    key=request.key,
                    fingerprint=PENDING,
                    state="in_progress",
                )
            )
            try:
                session.commit()
            except IntegrityError:
                return IN_PROGRESS
            return None

    def _settle(self, request: _Keyed, outcome: _Outcome) -> None:
        """Keep answers the client should see again; forget the rest so a retry can run.

        Forgotten: failures (5xx, or no answer), and any answer to a request whose body was
        not read whole, which therefore had no effect and could not be recognised again.
        """
        status = outcome.captured.status
        with self._session() as session:
            mine = (
                IdempotencyRecord.client_id == request.client_id,
                IdempotencyRecord.key == request.key,
            )
            # 499: the client went away mid-request, so nobody saw an answer: its retry runs.
            if status in (0, CLIENT_CLOSED_REQUEST) or status >= 500 or outcome.fingerprint is None:
                session.execute(delete(IdempotencyRecord).where(*mine))
            elif record := session.execute(select(IdempotencyRecord).where(*mine)).scalar():
                _keep(record, outcome, outcome.fingerprint)
            session.commit()


def _keep(record: IdempotencyRecord, outcome: _Outcome, fingerprint: str) -> None:
    captured = outcome.captured
    record.state, record.status, record.fingerprint = "done", captured.status, fingerprint
    record.subject_id = outcome.subject_id
    secret = outcome.not_replayable
    if secret is not None and 200 <= captured.status < 300:
        record.headers, record.body, record.not_replayable = {}, None, secret
        return
    record.headers = {
        name: captured.headers[name] for name in REPLAYED_HEADERS if name in captured.headers
    }
    record.body = bytes(captured.body)


CLIENT_CLOSED_REQUEST = 499


def _subject(path_params: Mapping[str, Any]) -> uuid.UUID | None:
    """The first ID in the path: what the request acted on."""
    for value in path_params.values():
        try:
            return uuid.UUID(str(value))
        except ValueError:
            continue
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for header, value in scope.get("headers", []):
        if header == name:
            return str(value.decode("latin-1"))
    return None


def _stale(record: IdempotencyRecord) -> bool:
    age = utcnow() - record.created_at
    return age > RETENTION or (record.state != "done" and age > ABANDONED)


async def _drain(receive: Receive, digest: BodyDigest) -> None:
    """Read the rest of a body into ``digest`` only (a disconnect leaves it incomplete)."""
    while not digest.complete:
        message = await receive()
        if message["type"] != "http.request":
            return
        digest.feed(message.get("body", b""), message.get("more_body", False))


async def _answer_retry(send: Send, record: IdempotencyRecord, fingerprint: str | None) -> None:
    if fingerprint is None or fingerprint != record.fingerprint:
        await _problem(send, *REUSED)
    elif record.not_replayable is not None:
        await _problem(send, 409, "not_replayable", record.not_replayable)
    else:
        await _replay(send, record)


async def _replay(send: Send, record: IdempotencyRecord) -> None:
    headers = [(name.encode(), value.encode()) for name, value in (record.headers or {}).items()]
    headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": record.status or 200, "headers": headers})
    await send({"type": "http.response.body", "body": record.body or b""})


async def _problem(send: Send, status: int, code: str, detail: str) -> None:
    title = "Idempotency conflict" if status != 400 else "Bad request"
    await send_problem(send, status, code, title, detail, close=False)
