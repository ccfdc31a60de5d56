"""Pure ASGI middleware: request ids with one JSON log line per request, and body limits."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.edge import BodyKind, edge_match
from app.core.errors import send_problem
from app.core.request_context import current_request_id, reset_request_id, set_request_id

access_logger = logging.getLogger("jtai.access")
error_logger = logging.getLogger("jtai.errors")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    """Echo or mint ``X-Request-ID`` and log method, route, status, duration and client."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = set_request_id(request_id)
        started = time.perf_counter()
        status = 500
        status_sent = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status, status_sent = message["status"], True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Answered here, inside the request-id context, so the 500 names the request.
            error_logger.exception("unhandled error", extra={"path": scope.get("path")})
            if status_sent:
                raise
            await _send_500(send_with_id)
        finally:
            _log_access(scope, status, time.perf_counter() - started)
            reset_request_id(token)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _VALID_REQUEST_ID.match(candidate) else None
    return None


def _log_access(scope: Scope, status: int, seconds: float) -> None:
    route = scope.get("route")
    access_logger.info(
        "request",
        extra={
            "method": scope.get("method"),
            "route": getattr(route, "path", None) or "unmatched",
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client_id": scope.get("state", {}).get("client_id"),
            "request_id": current_request_id(),
        },
    )


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse oversize bodies with 413 from the declared length or while streaming.

    The limit is the one for the kind of body the request's route declares (``edge``).
    """

    def __init__(self, app: ASGIApp, limits: Mapping[BodyKind, int]) -> None:
        self.app = app
        self.limits = dict(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits[edge_match(scope).traits.body]
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _send_413(send, limit)
            return
        received = 0
        exceeded = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # Whatever the app made of the interrupted body (frameworks answer 400 for a
            # failed read), the client is told the real reason: 413.
            nonlocal response_started
            if exceeded and not response_started:
                response_started = True
                await _send_413(send, limit)
                return
            if exceeded:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if not response_started:
                await _send_413(send, limit)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_413(send: Send, limit: int) -> None:
    detail = f"The body exceeds the limit of {limit} bytes for this endpoint."
    await send_problem(send, 413, "payload_too_large", "Payload too large", detail)


async def _send_500(send: Send) -> None:
    detail = "The server failed; quote the request id when reporting it."
    await send_problem(send, 500, "internal_error", "Internal error", detail)
