"""The request's session: committed off the worker threads that sync endpoints share."""

from __future__ import annotations

import asyncio
import inspect
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import anyio.to_thread
import httpx
import pytest
from fastapi import Depends, FastAPI, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session

from app.core import deps
from app.core.config import Settings
from app.core.database import make_engine, make_session_factory, release_between_hops
from app.core.deps import DbSession, commit_in_endpoint_threads
from app.core.errors import install_error_handlers
from app.main import ROUTERS, create_app
from app.organisations.kinds import OrganisationKind
from tests.factories import Factory, World

REQUESTS = 16
SHARED_THREADS = 4


def _engine_with_a_table(
    db_kind: str, url: str, *, connections: int, wait_seconds: float
) -> Iterator[Engine]:
    """A database with a ``writes`` table that few requests can use at once: PostgreSQL with
    ``connections`` pooled, SQLite with its write lock; either waited for ``wait_seconds``."""
    if db_kind == "postgresql":
        engine = create_engine(
            url, pool_size=connections, max_overflow=0, pool_timeout=wait_seconds
        )
    else:
        engine = make_engine(url)

        @event.listens_for(engine, "connect")
        def _short_waits(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA busy_timeout={int(wait_seconds * 1000)}")

    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE writes (n INTEGER)"))
    yield engine
    engine.dispose()


@pytest.fixture
def small_engine(db_kind: str, empty_database_url: str) -> Iterator[Engine]:
    """Fewer connections than requests, and short waits, so a stall shows as errors quickly."""
    yield from _engine_with_a_table(db_kind, empty_database_url, connections=2, wait_seconds=3)


def _app_writing_to(engine: Engine) -> FastAPI:
    app = FastAPI()
    app.state.jtai = types.SimpleNamespace(session_factory=make_session_factory(engine))

    @app.post("/write")
    def write(session: DbSession) -> Response:  # sync: runs on a shared worker thread
        session.execute(text("INSERT INTO writes VALUES (1)"))  # holds a connection / the lock
        time.sleep(0.05)
        return Response(b"ok")

    return app


def _burst(app: FastAPI, method: str, path: str) -> list[int]:
    """REQUESTS requests at once through SHARED_THREADS worker threads: their statuses."""

    async def all_at_once() -> list[int]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        usual, limiter.total_tokens = limiter.total_tokens, SHARED_THREADS
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                sent = (client.request(method, path) for _ in range(REQUESTS))
                answers = await asyncio.gather(*sent)
        finally:
            limiter.total_tokens = usual
        return [answer.status_code for answer in answers]

    return asyncio.run(all_at_once())


def test_more_writers_than_shared_threads_all_commit(small_engine: Engine) -> None:
    # Were commits queued behind the shared threads, those threads would all be taken by
    # endpoints waiting for the connections (or SQLite's write lock) that the queued commits
    # hold: nothing would move until the waits ran out and turned into 500s.
    statuses = _burst(_app_writing_to(small_engine), "POST", "/write")
    assert statuses == [200] * REQUESTS
    with small_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM writes")).scalar_one() == REQUESTS


@pytest.fixture
def one_connection(db_kind: str, empty_database_url: str) -> Iterator[Engine]:
    """A database a second request cannot get at for long."""
    yield from _engine_with_a_table(db_kind, empty_database_url, connections=1, wait_seconds=0.3)


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
    assert _burst(_app_reading_in_two_hops(small_engine), "GET", "/read") == [200] * REQUESTS


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
    assert _burst(_app_answering_a_model(small_engine), "GET", "/count") == [200] * REQUESTS


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
        assert getattr(route.endpoint, "__commits_session__", False), route.name


def test_the_apps_own_routes_commit_before_the_request_ends(
    client: TestClient, world: World, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the app serves is built from the routes when routers are included (FastAPI copies
    # them, or builds its own context for each): a wrapper on the router's route alone was
    # silently skipped, and every request then waited for one more thread to commit.
    left_to_commit: list[Session] = []
    monkeypatch.setattr(deps, "_commit_and_close", _recording(left_to_commit))
    read = client.get(f"/v1/inspections/{world.inspection_id}", headers=world.lead.headers)
    assert read.status_code == 200
    police = factory.organisation(OrganisationKind.POLICE)
    changed = client.put(
        f"/v1/inspections/{world.inspection_id}/participants/{police}",
        headers=world.operator.headers,
    )
    assert changed.status_code == 200, changed.text
    assert left_to_commit == []


def _recording(calls: list[Session]) -> Callable[[Session], None]:
    def commit_and_close(session: Session) -> None:
        calls.append(session)
        session.commit()
        session.close()

    return commit_and_close
