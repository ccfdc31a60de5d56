"""Input no endpoint can take, refused at the edge with the place named: NUL and deep JSON.

PostgreSQL text cannot hold U+0000, so a NUL anywhere in a path, a query or a JSON body used
to reach the database and fail there (500), on whichever endpoint it was sent to. JSON nested
thousands deep made the decoder give up (RecursionError) before any endpoint saw it. Both are
checked here once, for every endpoint, before authentication and routing, instead of in each
schema: the path and query string of every request, and every JSON body except those the
endpoint reads as raw bytes itself (list pushes and file uploads, each with its own checks).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from anyio import to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.edge import EdgeMatch, edge_match
from app.core.errors import ProblemItem, send_problem

NUL = "\x00"
# Deeper than any request schema nests (three levels at most); far below what the decoder
# and the validators can walk.
MAX_JSON_DEPTH = 32
MAX_NAMED_PROBLEMS = 20
INLINE_BODY_BYTES = 64 * 1024


class InputGuardMiddleware:
    """Refuse NUL in the path, the query or a JSON body (422), and JSON nested too deep.

    A route whose endpoint reads its body raw says so (``edge``); its body is not looked at.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        match = edge_match(scope)
        in_url = _url_problems(scope, match)
        if in_url:
            await _refuse_nul(send, in_url)
            return
        if _has_json_body(scope) and not match.traits.body.read_raw:
            body, receive = await _read_body(receive)
            verdict = await _inspect(body)
            if verdict.too_deep_at is not None:
                await _refuse_depth(send, verdict.too_deep_at)
                return
            if verdict.nul_at:
                await _refuse_nul(send, verdict.nul_at)
                return
        await self.app(scope, receive, send)


def _url_problems(scope: Scope, match: EdgeMatch) -> list[str]:
    """Where the decoded path and query hold a NUL, as ``path.<param>`` and ``query.<name>``."""
    places = []
    path: str = scope["path"]
    if NUL in path:
        places.append(_path_parameter_with_nul(match))
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if NUL in name or NUL in value:
            places.append(f"query.{_printable(name)}")
    return places


def _path_parameter_with_nul(match: EdgeMatch) -> str:
    for name, value in match.path_params.items():
        if NUL in str(value):
            return f"path.{name}"
    return "path"  # no route takes it: the NUL is still what is wrong with it


def _has_json_body(scope: Scope) -> bool:
    if scope.get("method") in {"GET", "HEAD", "OPTIONS", "DELETE"}:
        return False
    media_types = [
        value.decode("latin-1").split(";")[0].strip().lower()
        for name, value in scope.get("headers", [])
        if name == b"content-type"
    ]
    # FastAPI decodes a body without a content type as JSON too. With several Content-Type
    # headers the body is checked if any says JSON: the framework reads the first, a proxy may
    # read the last, and a guard that read only one was walked past with the other.
    return any(_is_json(media_type) for media_type in media_types or [""])


def _is_json(media_type: str) -> bool:
    return media_type in {"", "application/json"} or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (its size is bounded by the body limit outside), and a receive that
    hands it to the app as if it had not been read."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    body = b"".join(chunks)
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _inspect(body: bytes) -> JsonVerdict:
    if len(body) <= INLINE_BODY_BYTES:
        return inspect_json(body)
    # Decoding a large body takes a while; other clients are answered meanwhile.
    return await to_thread.run_sync(inspect_json, body)


@dataclass(frozen=True)
class JsonVerdict:
    too_deep_at: str | None = None
    nul_at: tuple[str, ...] = ()


# A location is built only when named: (parent location, key or index), the root is None.
_Location = tuple[Any, str | int] | None


def inspect_json(body: bytes) -> JsonVerdict:
    """What is wrong with a JSON body that decodes; one that does not is the app's to refuse."""
    if not body:
        return JsonVerdict()
    try:
        document = json.loads(body)
    except RecursionError:
        return JsonVerdict(too_deep_at="body")
    except ValueError:
        return JsonVerdict()
    # Raw control characters are invalid JSON, so a NUL can only come from this escape; and
    # a body with few brackets cannot nest deep. Most bodies need no walk at all.
    may_hold_nul = b"\\u0000" in body
    if not may_hold_nul and body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return JsonVerdict()
    return _walk(document, may_hold_nul)


def _walk(document: Any, may_hold_nul: bool) -> JsonVerdict:
    """Level by level (the input's depth never becomes the stack's): containers always,
    strings and object keys only when a NUL may be there."""
    nul_at: list[_Location] = []
    if not isinstance(document, dict | list | str):
        return JsonVerdict()
    level: list[tuple[_Location, Any]] = [(None, document)]
    levels = 0
    while level:
        below: list[tuple[_Location, Any]] = []
        for location, value in level:
            if isinstance(value, str):
                if NUL in value:
                    nul_at.append(location)
                continue
            if levels == MAX_JSON_DEPTH:
                return JsonVerdict(too_deep_at=_dotted(location))
            children = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in children:
                if may_hold_nul and isinstance(key, str) and NUL in key:
                    nul_at.append((location, key))
                if isinstance(item, dict | list) or (may_hold_nul and isinstance(item, str)):
                    below.append(((location, key), item))
        level = below
        levels += 1
    named = tuple(_dotted(location) for location in nul_at[:MAX_NAMED_PROBLEMS])
    return JsonVerdict(nul_at=named)


def _dotted(location: _Location) -> str:
    parts: list[str] = []
    while location is not None:
        location, key = location
        parts.append(_printable(str(key)))
    return ".".join(["body", *reversed(parts)])


def _printable(name: str) -> str:
    return name.replace(NUL, "\\u0000")


async def _refuse_nul(send: Send, places: Sequence[str]) -> None:
    errors = [
        ProblemItem(field=place, code="nul_character", message="NUL (U+0000) is not allowed")
        for place in places
    ]
    await send_problem(
        send,
        422,
        "validation_error",
        "Invalid request",
        f"NUL characters in: {', '.join(places[:5])}",
        errors,
    )


async def _refuse_depth(send: Send, place: str) -> None:
    detail = f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels."
    item = ProblemItem(field=place, code="json_too_deep", message=detail)
    await send_problem(send, 422, "json_too_deep", "JSON nested too deep", detail, [item])
