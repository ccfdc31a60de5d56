"""What a route needs from the HTTP edge, declared once on the route, and found by one match.

The middlewares in front of the app (body limit, input guard, Idempotency-Key) run before the
router chooses a route, yet each needs to know something about it: how large its body may be,
whether the endpoint reads that body as raw bytes itself (so the JSON guard leaves it alone),
whether its answers may be kept for replay. A route says so with ``@edge(...)`` on its
endpoint; ``RouteMatchMiddleware`` matches the request to its route once, as the router will,
and leaves the result in the scope (``edge_match``) for every middleware after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

# Where the router itself finds the path a route matches (the root path taken off).
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Route, Router, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.config import Settings

F = TypeVar("F", bound=Callable[..., Any])

_TRAITS = "__jtai_edge_traits__"
_MATCH = "jtai.edge"


class BodyKind(StrEnum):
    """What a route's body is: it decides the body's size limit and who reads it."""

    JSON = "json"  # decoded by FastAPI; the edge checks it first (NUL, nesting)
    LIST = "list"  # a pushed list, read as bytes by the endpoint and its sandboxed reader
    DOCUMENT = "document"  # a document's bytes (a whole file, or one part), streamed

    @property
    def read_raw(self) -> bool:
        """The endpoint reads the bytes itself, with checks of its own."""
        return self is not BodyKind.JSON


def body_limits(settings: Settings) -> dict[BodyKind, int]:
    """The largest body of each kind, from the settings."""
    return {
        BodyKind.JSON: settings.max_body_bytes,
        BodyKind.LIST: settings.max_list_bytes,
        BodyKind.DOCUMENT: settings.max_upload_bytes,
    }


@dataclass(frozen=True)
class RouteTraits:
    body: BodyKind = BodyKind.JSON
    # The route's successful answer carries a secret (a client secret, an access token):
    # it is never stored for replay, and a retry with the same Idempotency-Key is told this.
    not_replayable: str | None = None


PLAIN = RouteTraits()


def edge(*, body: BodyKind = BodyKind.JSON, not_replayable: str | None = None) -> Callable[[F], F]:
    """Declare what the route whose endpoint this decorates needs from the edge."""
    traits = RouteTraits(body=body, not_replayable=not_replayable)

    def mark(endpoint: F) -> F:
        setattr(endpoint, _TRAITS, traits)
        return endpoint

    return mark


def traits_of(route: Any) -> RouteTraits:
    traits = getattr(getattr(route, "endpoint", None), _TRAITS, PLAIN)
    return traits if isinstance(traits, RouteTraits) else PLAIN


@dataclass(frozen=True)
class EdgeMatch:
    """The route a request is for (None: no route takes its path), as the router will find
    it: a route whose path and method fit, else one whose path fits (the router's 405)."""

    route: Any  # a route, or FastAPI's view of one it serves through an included router
    path_params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def traits(self) -> RouteTraits:
        return traits_of(self.route)


UNMATCHED = EdgeMatch(None)


def flat_routes(routes: Sequence[BaseRoute]) -> list[Any]:
    """Every route the app serves, in the order the router tries them.

    Recent FastAPI releases keep an included router as one entry that matches lazily (and
    says nothing of which of its routes matched); ``iter_route_contexts`` lists its routes
    with the paths they are served at. Earlier releases copied the routes in, flat already.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - FastAPI before lazily included routers
        return list(routes)
    return list(iter_route_contexts(routes))


def path_pattern(route: Any) -> re.Pattern[str] | None:
    """The pattern a plain route's path must match (None for a mount, or a route of unknown
    shape, which only its own ``matches`` can judge)."""
    original = getattr(route, "original_route", route)
    path = getattr(route, "path", None)
    if not isinstance(original, Route) or not isinstance(path, str):
        return None
    return compile_path(path)[0]


def match_route(
    routes: Sequence[Any], scope: Scope, patterns: Sequence[re.Pattern[str] | None] | None = None
) -> EdgeMatch:
    """The route ``scope`` is for; ``patterns`` (``path_pattern`` of each route) let most
    routes be passed over on a regular expression instead of a call to their ``matches``."""
    partial: EdgeMatch | None = None
    path = get_route_path(scope)
    for index, route in enumerate(routes):
        pattern = patterns[index] if patterns is not None else None
        if pattern is not None and pattern.match(path) is None:
            continue
        found, child_scope = route.matches(scope)
        if found is Match.FULL:
            return EdgeMatch(route, child_scope.get("path_params", {}))
        if found is Match.PARTIAL and partial is None:
            partial = EdgeMatch(route, child_scope.get("path_params", {}))
    return partial or UNMATCHED


def edge_match(scope: Scope) -> EdgeMatch:
    """The match ``RouteMatchMiddleware`` left in the scope (it must run first)."""
    match = scope.get(_MATCH)
    if not isinstance(match, EdgeMatch):
        raise LookupError("RouteMatchMiddleware must run before the middlewares that ask")
    return match


class RouteMatchMiddleware:
    """Match each HTTP request to its route once, for the middlewares inside this one."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router
        self._routes: list[Any] = []
        self._patterns: list[re.Pattern[str] | None] = []
        self._routes_of: list[BaseRoute] | None = None

    def _flat(self) -> list[Any]:
        # Listed again only when the app's own list changes (a route or router added to the
        # app); routes are added before the app serves, as its middleware is.
        routes = self.router.routes
        if not _same(self._routes_of, routes):
            self._routes_of = list(routes)
            self._routes = flat_routes(routes)
            self._patterns = [path_pattern(route) for route in self._routes]
        return self._routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[_MATCH] = match_route(self._flat(), scope, self._patterns)
        await self.app(scope, receive, send)


def _same(known: list[BaseRoute] | None, routes: list[BaseRoute]) -> bool:
    if known is None or len(known) != len(routes):
        return False
    return all(a is b for a, b in zip(known, routes, strict=True))
