"""Request-scoped dependencies shared by every domain."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextvars import ContextVar
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from app.core.config import Settings

_REQUEST_SESSION: ContextVar[Session | None] = ContextVar("jtai_request_session", default=None)


async def _request_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed before the response is sent, or rolled back.

    async because opening a session does no I/O (a connection is taken at the first query):
    a sync dependency would cost every request one more hop through the worker threads,
    and each hop is a queue that lengthens the slowest requests under load. A sync endpoint
    commits in its own thread as it returns (``commit_in_endpoint_threads``); whatever is
    left to commit then (async endpoints) is committed in a worker thread here.
    """
    session = request.app.state.jtai.session_factory()
    marker = _REQUEST_SESSION.set(session)
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await _off_the_shared_threads(_roll_back_and_close, session)
        raise
    finally:
        _REQUEST_SESSION.reset(marker)
    if _has_work(session):
        await _off_the_shared_threads(_commit_and_close, session)
    else:
        session.close()  # holds no connection: nothing to wait for


def _has_work(session: Session) -> bool:
    """A transaction open, objects to flush, or entries queued for the commit (audit, events,
    deletions from the store, all kept in ``session.info`` until then)."""
    return session.in_transaction() or bool(
        session.new or session.dirty or session.deleted or session.info
    )


def commit_in_endpoint_threads(routes: Iterable[BaseRoute]) -> None:
    """Make each sync endpoint commit its request's session in its own worker thread, as it
    returns. Call it on a router's routes before the router is included.

    FastAPI ends a request's dependencies only after it has validated the response, which for
    a sync endpoint is one more hop through the shared worker threads. A session still open
    then holds its connection (on SQLite, the write lock) while it waits for a thread, and a
    burst of a hundred requests held every connection while every thread waited for one: the
    service stood still for a minute (attacker's pass). Committed here, the response waits
    for its thread holding nothing. (A response that then fails validation is a bug answered
    500 after its change was committed.)
    """
    for route in routes:
        if not isinstance(route, APIRoute) or getattr(route.endpoint, "__commits_session__", False):
            continue
        endpoint = route.endpoint
        if inspect.iscoroutinefunction(endpoint) or inspect.isgeneratorfunction(endpoint):
            continue
        committing = _committing(endpoint)
        # Both: a route served as it is calls its dependant's call, and a router's route
        # included into the app is served by what FastAPI builds from its endpoint then
        # (a copy of the route, or in newer releases an "effective route context").
        route.endpoint = committing
        route.dependant.call = committing


def _committing(call: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(call)
    def endpoint(*args: Any, **kwargs: Any) -> Any:
        result = call(*args, **kwargs)
        session = _REQUEST_SESSION.get()
        if session is not None and _has_work(session):
            session.commit()
        return result

    endpoint.__commits_session__ = True  # type: ignore[attr-defined]
    return endpoint


async def _off_the_shared_threads(finish: Callable[[Session], None], session: Session) -> None:
    # Not through the worker-thread limit that sync endpoints share: this session holds a
    # connection (on SQLite, the write lock) until it finishes, and if every shared thread
    # were taken by endpoints waiting for a connection or that lock, nothing would move
    # until timeouts turned them into errors. FastAPI exits its own generator dependencies
    # the same way.
    await anyio.to_thread.run_sync(finish, session, limiter=anyio.CapacityLimiter(1))


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _roll_back_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


DbSession = Annotated[Session, Depends(_request_session, scope="function")]


def app_component(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency answering one part of what the composition root built at start-up.

    Each domain declares the parts it needs (tokens, storage, contexts, ...) with their own
    types, so nothing below the composition root depends on the whole of it.
    """

    # async: it only reads an attribute; a sync dependency would cost a worker-thread hop.
    async def component(request: Request) -> Any:
        return component_of(request, name)

    component.__name__ = f"app_{name}"
    return component


def component_of(request: Request, name: str) -> Any:
    """What the composition root built under ``name``, for a dependency that already has the
    request (asking for it as a dependency of its own costs every request its solving)."""
    return getattr(request.app.state.jtai, name)


AppSettings = Annotated[Settings, Depends(app_component("settings"))]
