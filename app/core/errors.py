"""One error hierarchy, answered as RFC 9457 problem details with a stable ``code``."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from app.core.request_context import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger("jtai.errors")


class ProblemItem(BaseModel):
    """One thing wrong with the request: where, what, and a stable code."""

    field: str | None = Field(default=None, description="Dotted path of the offending field")
    code: str
    message: str
    row: int | None = Field(default=None, description="Row number as the user sees it")
    value: str | None = None


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    code: str = Field(description="Stable, machine-readable error code")
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[ProblemItem] | None = None


class AppError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        errors: list[ProblemItem] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.code = code or type(self).code
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}


class Unauthenticated(AppError):
    status, code, title = 401, "unauthenticated", "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="jtai"'})
        super().__init__(detail, **kwargs)


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(AppError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class RequestTimeout(AppError):
    status, code, title = 408, "request_timeout", "Request timeout"


class PreconditionFailed(AppError):
    status, code, title = 412, "precondition_failed", "Precondition failed"


class PreconditionRequired(AppError):
    status, code, title = 428, "precondition_required", "Precondition required"


class PayloadTooLarge(AppError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class UnsupportedMediaType(AppError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class InvalidContent(AppError):
    status, code, title = 422, "invalid", "Invalid content"


class ServiceUnavailable(AppError):
    status, code, title = 503, "unavailable", "Service unavailable"


def render_problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    errors: Sequence[ProblemItem] | None = None,
    extra: dict[str, Any] | None = None,
    instance: str | None = None,
) -> bytes:
    """The one problem+json body: every error answer carries it, whether the app's handlers,
    a middleware (``send_problem``) or the server's own protocol (431, 408) sends it.

    ``request_id`` is the current request's, where there is one; absent members are left out.
    """
    problem = Problem(
        title=title,
        status=status,
        code=code,
        detail=detail,
        errors=list(errors) if errors else None,
        instance=instance,
        request_id=current_request_id(),
    )
    body = problem.model_dump(exclude_none=True) | (extra or {})
    # Rendered as Starlette's JSONResponse renders.
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    errors: list[ProblemItem] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    instance: str | None = None,
) -> Response:
    """A problem as a Response, for the app's exception handlers."""
    body = render_problem(
        status, code, title, detail, errors=errors, extra=extra, instance=instance
    )
    return Response(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


async def send_problem(
    send: Send,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: Sequence[ProblemItem] = (),
    *,
    close: bool = True,
) -> None:
    """A problem sent as raw ASGI messages, from middleware the app's handlers do not reach.

    ``close``: the request's body may be left unread, so the connection is not reused.
    """
    body = render_problem(status, code, title, detail, errors=errors)
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
}


async def _handle_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return problem_response(
        exc.status,
        exc.code,
        exc.title,
        exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
        instance=request.url.path,
    )


async def _handle_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    return problem_response(
        exc.status_code,
        code,
        title,
        detail,
        headers=dict(exc.headers or {}),
        instance=request.url.path,
    )


def _validation_items(exc: RequestValidationError) -> list[ProblemItem]:
    items = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] in {"body", "query", "path", "header"}:
            location = [location[0], *location[1:]]
        items.append(
            ProblemItem(
                field=".".join(location) or None,
                code=str(error.get("type", "invalid")),
                message=str(error.get("msg", "invalid value")),
            )
        )
    return items


async def _handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    items = _validation_items(exc)
    fields = ", ".join(item.field or "?" for item in items[:5])
    return problem_response(
        422,
        "validation_error",
        "Invalid request",
        f"Invalid fields: {fields}",
        errors=items,
        instance=request.url.path,
    )


async def _handle_database_busy(request: Request, exc: Exception) -> Response:
    """No connection came free within the pool's timeout, or SQLite's write lock did not: the
    service is overloaded, not broken. A 503 tells clients to come back; a 500 told them
    something was wrong with their request or with us, and let retrying clients give up."""
    if isinstance(exc, OperationalError) and not _is_lock_timeout(exc):
        raise exc
    logger.warning("database busy", extra={"path": request.url.path})
    return problem_response(
        503,
        "busy",
        "Service busy",
        "Too many requests are waiting for the database; retry in a moment.",
        headers={"Retry-After": "2"},
        instance=request.url.path,
    )


def _is_lock_timeout(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _handle_app_error)
    app.add_exception_handler(PoolTimeout, _handle_database_busy)
    app.add_exception_handler(OperationalError, _handle_database_busy)
    app.add_exception_handler(StarletteHTTPException, _handle_http_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    # Anything else is answered 500 by RequestContextMiddleware, inside the request id.


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry declaring a route's problem+json errors for OpenAPI; 503 is
    declared for every route, as any may find the database busy."""
    descriptions = {
        400: "Malformed request",
        401: "Missing, expired or invalid token",
        403: "The caller's role may not do this",
        404: "No such object, or not visible to the caller",
        409: "Conflicts with the current state",
        412: "The object changed since it was read (If-Match)",
        413: "Body too large",
        415: "Unsupported media type",
        422: "Invalid content; `errors` names each problem",
        428: "A change to an existing object must send If-Match with the version it is based on",
        503: "Temporarily unavailable (busy, or the object store failing); retry after Retry-After",
    }
    return {
        status: {
            "model": Problem,
            "description": descriptions.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in sorted({*statuses, 503})
    }
