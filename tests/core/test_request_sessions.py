"""The request's session: committed off the worker threads that sync endpoints share."""

from __future__ import annotations

import asyncio
import inspect
import time
import types
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
import httpx
import pytest
from fastapi import Depends, FastAPI, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import Engine, create_engine, event, text

from app.core.config import Settings
from app.core.database import make_engine, make_session_factory, release_between_hops
from app.core.deps import DbSession, commit_in_endpoint_threads
from app.core.errors import install_error_handlers
from app.main import ROUTERS, create_app

REQUESTS = 16
SHARED_THREADS = 4


@pytest.fixture
def small_engine(db_kind: str, empty_database_url: str) -> Iterator[Engine]:
    """Fewer connections than requests, and short waits, so a stall shows as errors quickly."""
    if db_kind == "postgresql":
        engine = create_engine(empty_database_url, pool_size=2, max_overflow=0, pool_timeout=3)
    else:
        engine = make_engine(empty_database_url)

        @event.listens_for(engine, "connect")
        def _short_waits(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA busy_timeout=3000")

    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE writes (n INTEGER)"))
    yield engine
    engine.dispose()


def _app_writing_to(engine: Engine) -> FastAPI:
    app = FastAPI()
    app.state.jtai = types.SimpleNamespace(session_factory=make_session_factory(engine))

    @app.post("/write")
    def write(session: DbSession) -> Response:  # sync: runs on a shared worker thread
        session.execute(text("INSERT INTO writes VALUES (1)"))  # holds a connection / the lock
        time.sleep(0.05)
        return Response(b"ok")

    return app


async def _many_writes(app: FastAPI) -> list[int]:
    limiter = anyio.to_thread.current_default_thread_limiter()
    usual, limiter.total_tokens = limiter.total_tokens, SHARED_THREADS
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answers = await asyncio.gather(*(client.post("/write") for _ in range(REQUESTS)))
    finally:
        limiter.total_tokens = usual
    return [answer.status_code for answer in answers]


def test_more_writers_than_shared_threads_all_commit(small_engine: Engine) -> None:
    # Were commits queued behind the shared threads, those threads would all be taken by
    # endpoints waiting for the connections (or SQLite's write lock) that the queued commits
    # hold: nothing would move until the waits ran out and turned into 500s.
    statuses = asyncio.run(_many_writes(_app_writing_to(small_engine)))
    assert statuses == [200] * REQUESTS
    with small_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM writes")).scalar_one() == REQUESTS


@pytest.fixture
def one_connection(db_kind: str, empty_database_url: str) -> Iterator[Engine]:
    """A database a second request cannot get at for long: PostgreSQL with one pooled
    connection, SQLite with a short wait for its write lock."""
    if db_kind == "postgresql":
        engine = create_engine(empty_database_url, pool_size=1, max_overflow=0, pool_timeout=0.3)
    else:
        engine = make_engine(empty_database_url)

        @event.listens_for(engine, "connect")
        def _short_waits(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA busy_timeout=300")

    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE writes (n INTEGER)"))
    yield engine
    engine.dispose()


def test_a_request_that_cannot_get_the_database_in_time_is_told_to_retry(
    one_connection: Engine,
) -> None:
    app = _app_writing_to(one_connection)
    install_error_handlers(app)

    @app.post("/slow-write")
    def slow_write(session: DbSession) -> Response:
        session.execute(text("INSERT INTO writes VALUES (2)"))
        time.sleep(1.5)
        return Response(b"ok")

    async def both() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            slow = asyncio.create_task(client.post("/slow-write"))
            await asyncio.sleep(0.3)  # the slow writer holds the connection / the lock
            return [await client.post("/write"), await slow]

    refused, slow = asyncio.run(both())
    assert slow.status_code == 200
    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "2"
    assert refused.json()["code"] == "busy"
    with one_connection.connect() as connection:
        assert connection.execute(text("SELECT n FROM writes")).scalars().all() == [2]


def _app_reading_in_two_hops(engine: Engine) -> FastAPI:
    """A route whose sync dependency queries (as authentication and the inspection check do)
    before its sync endpoint queries again in another worker thread."""
    app = FastAPI()
    app.state.jtai = types.SimpleNamespace(session_factory=make_session_factory(engine))
    install_error_handlers(app)

    def checked(session: DbSession) -> int:
        found = session.execute(text("SELECT count(*) FROM writes")).scalar_one()
        release_between_hops(session)
        return int(found)

    @app.get("/read")
    def read(session: DbSession, before: int = Depends(checked)) -> Response:
        time.sleep(0.02)
        now = session.execute(text("SELECT count(*) FROM writes")).scalar_one()
        return Response(f"{before} {now}".encode())

    return app


def test_more_readers_than_threads_and_connections_together_all_answer(
    small_engine: Engine,
) -> None:
    # Were connections held from the dependency's thread to the endpoint's, the threads could
    # all be taken by requests waiting for a connection while every connection was held by a
    # request waiting for a thread: nothing would move until the pool's timeout (503s).
    async def many() -> list[int]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        usual, limiter.total_tokens = limiter.total_tokens, SHARED_THREADS
        try:
            transport = httpx.ASGITransport(app=_app_reading_in_two_hops(small_engine))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                answers = await asyncio.gather(*(client.get("/read") for _ in range(REQUESTS)))
        finally:
            limiter.total_tokens = usual
        return [answer.status_code for answer in answers]

    assert asyncio.run(many()) == [200] * REQUESTS


class Count(BaseModel):
    rows: int


def _app_answering_a_model(engine: Engine) -> FastAPI:
    """A sync route with a response model: FastAPI validates its answer in one more worker
    thread after the endpoint returns, before the request's dependencies end."""
    app = FastAPI()
    app.state.jtai = types.SimpleNamespace(session_factory=make_session_factory(engine))
    install_error_handlers(app)

    @app.get("/count", response_model=Count)
    def count(session: DbSession) -> Count:
        rows = session.execute(text("SELECT count(*) FROM writes")).scalar_one()
        time.sleep(0.02)
        return Count(rows=rows)

    commit_in_endpoint_threads(app.router.routes)
    return app


def test_a_burst_on_a_route_with_a_response_model_all_answers(small_engine: Engine) -> None:
    # Had the session stayed open until the response was validated, each request would hold
    # its connection (SQLite: the write lock) while waiting for that thread, and the threads
    # would all be taken by requests waiting for a connection (attacker's pass: a minute).
    async def many() -> list[int]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        usual, limiter.total_tokens = limiter.total_tokens, SHARED_THREADS
        try:
            transport = httpx.ASGITransport(app=_app_answering_a_model(small_engine))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                answers = await asyncio.gather(*(client.get("/count") for _ in range(REQUESTS)))
        finally:
            limiter.total_tokens = usual
        return [answer.status_code for answer in answers]

    assert asyncio.run(many()) == [200] * REQUESTS


def test_every_sync_endpoint_of_the_app_commits_in_its_own_thread(settings: Settings) -> None:
    create_app(settings)
    sync_routes = [
        route
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and not inspect.iscoroutinefunction(route.endpoint)
    ]
    assert sync_routes
    for route in sync_routes:
        assert getattr(route.dependant.call, "__commits_session__", False), route.name
