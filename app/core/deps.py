"""Request-scoped dependencies shared by every domain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.core.config import Settings


async def _request_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed before the response is sent, or rolled back.

    async because opening a session does no I/O (a connection is taken at the first query):
    a sync dependency would cost every request one more hop through the worker threads,
    and each hop is a queue that lengthens the slowest requests under load. The commit,
    which does I/O, runs in a worker thread.
    """
    session = request.app.state.jtai.session_factory()
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await _off_the_shared_threads(_roll_back_and_close, session)
        raise
    await _off_the_shared_threads(_commit_and_close, session)


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
        return getattr(request.app.state.jtai, name)

    component.__name__ = f"app_{name}"
    return component


AppSettings = Annotated[Settings, Depends(app_component("settings"))]
