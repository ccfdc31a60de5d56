"""Shared fixtures: a migrated database per run (SQLite or PostgreSQL), clean for every test.

Choose the database with ``--db sqlite`` (default) or ``--db postgresql``; PostgreSQL runs use
a fresh database on ``JTAI_TEST_POSTGRES_URL`` that is dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Select, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from app.audit.chain import GENESIS_HASH
from app.audit.sequencer import chain_all_pending
from app.auth.keys import generate_private_pem
from app.cli.main import cli
from app.composition import AppState
from app.core.config import Environment, Settings
from app.core.database import make_engine
from app.core.migrations import upgrade_to_head
from app.main import create_app
from app.models import metadata
from app.storage import LocalStorage, Storage
from tests.factories import Factory, World
from tests.worlds import FUTURE, Exchange

# Registered here, not imported into each folder's conftest: a fixture imported into three
# conftests is three fixtures, and the session-scoped SeaweedFS server started three times.
pytest_plugins = ["tests.storage.fixtures"]

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default=os.environ.get("JTAI_TEST_DB", "sqlite"),
        help="database the suite runs against",
    )


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


def _reachable(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


@contextmanager
def _postgres_server(scratch: Path) -> Iterator[str]:
    """The configured PostgreSQL, or a throwaway one from the pgserver package if none runs."""
    configured = os.environ.get("JTAI_TEST_POSTGRES_URL")
    if configured or _reachable(DEFAULT_POSTGRES_URL):
        yield configured or DEFAULT_POSTGRES_URL
        return
    import pgserver  # type: ignore[import-untyped]

    server = pgserver.get_server(scratch, cleanup_mode="stop")
    try:
        socket_dir = server.get_uri().split("host=", 1)[1]
        yield f"postgresql+psycopg://postgres@/postgres?host={socket_dir}"
    finally:
        server.cleanup()


def _postgres_database(admin_url: str) -> Iterator[str]:
    name = f"jtai_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _postgres_server(tmp_path_factory.mktemp("pgdata")) as admin_url:
        yield admin_url


@pytest.fixture(scope="session")
def database_url(db_kind: str, var_dir: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if db_kind == "postgresql":
        yield from _postgres_database(request.getfixturevalue("postgres_admin_url"))
    else:
        yield f"sqlite:///{(var_dir / 'test.sqlite3').as_posix()}"


@pytest.fixture
def empty_database_url(
    db_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A database of its own with no tables, for tests that walk the migrations themselves."""
    if db_kind == "postgresql":
        yield from _postgres_database(request.getfixturevalue("postgres_admin_url"))
    else:
        yield f"sqlite:///{(tmp_path / 'empty.sqlite3').as_posix()}"


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> str:
    upgrade_to_head(database_url)
    return database_url


@pytest.fixture(scope="session")
def settings(migrated_database: str, var_dir: Path) -> Settings:
    return Settings(
        environment=Environment.TEST,
        var_dir=var_dir,
        database_url=migrated_database,
        signing_key=generate_private_pem(),  # type: ignore[arg-type]
        # Tests link pending reads themselves (Reader.chained): a loop of the app's own would
        # share the rolled-back test connection from another thread.
        audit_sequence_seconds=0,
        # Webhook tests deliver to receivers on loopback ports, over plain http, and start
        # their own workers: none runs inside the app.
        webhook_allow_insecure=True,
        webhook_allow_private=True,
        webhook_poll_seconds=0,
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="session")
def engine(app: FastAPI) -> Engine:
    result: Engine = app.state.jtai.engine
    return result


def _wipe(engine: Engine) -> None:
    """Every table emptied by DELETE: TRUNCATE takes PostgreSQL 50 times as long on tables
    this small (it makes new files for all twenty)."""
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
        # The migration seeds the chain's genesis row; a clean database has it too.
        connection.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": GENESIS_HASH}
        )


def _empty_store(storage: Storage) -> None:
    if not isinstance(storage, LocalStorage):
        return
    for entry in storage.root.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    storage.ensure_bucket()


# Fixtures that open connections of their own: a test that uses one gets real commits.
OWN_CONNECTIONS = frozenset({"fresh_engine", "jtai"})


def _commits(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("commits") is not None or not OWN_CONNECTIONS.isdisjoint(
        request.fixturenames
    )


@contextmanager
def _rolled_back(state: AppState) -> Iterator[None]:
    """Every session the app and the test open joins one outer transaction on one connection,
    as a SAVEPOINT, and the outer transaction is rolled back at the end: nothing is committed,
    so there is nothing to empty. Sessions that commit release their savepoint; audit rows,
    locks and constraint checks behave as they do in the app."""
    connection = state.engine.connect()
    outer = connection.begin()
    shared = state.session_factory
    state.session_factory = sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=True,
    )
    try:
        yield
    finally:
        state.session_factory = shared
        outer.rollback()
        connection.close()
    _nothing_committed(state.engine)


# Every write through the API moves the audit head; every world has organisations.
_COMMITTED = text(
    "SELECT (SELECT seq FROM audit_head) + (SELECT count(*) FROM audit_pending_reads), "
    "(SELECT count(*) FROM organisations)"
)


def _nothing_committed(engine: Engine) -> None:
    """A test that wrote through a connection of its own (another app, a thread racing, the
    CLI) committed behind the rolled-back transaction: clean up, and say how to fix it."""
    with engine.connect() as connection:
        audited, organisations = connection.execute(_COMMITTED).one()
    if audited or organisations:
        _wipe(engine)
        pytest.fail(
            "the test committed outside its rolled-back transaction (another app, thread or "
            "connection on the test database?): mark it @pytest.mark.commits",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test that touches the database starts from empty tables and an empty store.

    Most run inside a transaction that is rolled back. Those marked ``commits`` (or using a
    fixture in OWN_CONNECTIONS) get real commits, for other connections, threads, apps or
    processes to see, and DELETE empties the tables after them.
    """
    if "engine" not in request.fixturenames:
        yield
        return
    state: AppState = request.getfixturevalue("app").state.jtai
    try:
        if _commits(request):
            try:
                yield
            finally:
                _wipe(state.engine)
        else:
            with _rolled_back(state):
                yield
    finally:
        _empty_store(state.storage)


class Reader:
    """Short read-only transactions, so a test never holds SQLite's lock across a request."""

    def __init__(self, app: FastAPI) -> None:
        self._factory = app.state.jtai.session_factory

    def all(self, statement: Select[Any]) -> list[Any]:
        with self._factory() as session:
            return list(session.execute(statement).scalars())

    def chained(self, statement: Select[Any]) -> list[Any]:
        """As ``all``, once the reads still pending are linked into the audit chain (as the
        service's sequencer does within a second)."""
        with self._factory() as session:
            chain_all_pending(session)
            session.commit()
        return self.all(statement)


@pytest.fixture
def db(app: FastAPI, engine: Engine) -> Reader:
    return Reader(app)


@pytest.fixture
def client(app: FastAPI, engine: Engine) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def factory(app: FastAPI, engine: Engine) -> Factory:
    return Factory(app)


@pytest.fixture
def fresh_engine(database_url: str) -> Iterator[Engine]:
    """A separate engine, for tests that need their own connections (threads, tampering)."""
    separate = make_engine(database_url)
    yield separate
    separate.dispose()


@pytest.fixture
def jtai(database_url: str, var_dir: Path, engine: Engine) -> Callable[..., Result]:
    """The jtai command, run in-process on the test database and the app's store; keyword
    arguments set environment variables (JTAI_RETENTION_DAYS is unset unless given)."""

    def run(*args: str, **env: str) -> Result:
        environment: dict[str, str | None] = {
            "JTAI_DATABASE_URL": database_url,
            "JTAI_VAR_DIR": str(var_dir),
            "JTAI_RETENTION_DAYS": None,
        }
        return CliRunner().invoke(cli, list(args), env=environment | env)

    return run


@pytest.fixture
def world(factory: Factory, request: pytest.FixtureRequest) -> World:
    """The inspection a test acts on, with everyone the access matrix needs (see World).

    Mental health, notified at FUTURE so that nothing is due yet. A test, class or module
    that needs another asks with ``@pytest.mark.world(theme=..., notification_at=...)``.
    """
    options: dict[str, Any] = {"theme": "mental-health", "notification_at": FUTURE}
    marker = request.node.get_closest_marker("world")
    if marker is not None:
        options |= marker.kwargs
    return factory.world(options["theme"], options["notification_at"])


@pytest.fixture
def ex(factory: Factory, world: World) -> Exchange:
    """The world with tracked children and health and police agencies taking part: what
    evaluations, tracking, meetings and engagement are written about and by."""
    return Exchange.around(factory, world)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Tests skipped for want of ../shared/seeds (the published guidance, kept beside the
    repository, not in it) are named in a banner: a clone without it checks the themes
    against nothing, and should not pass as if it had."""
    skipped = terminalreporter.stats.get("skipped", [])
    unseeded = [r for r in skipped if "no seed documents" in str(getattr(r, "longrepr", ""))]
    if unseeded:
        terminalreporter.write_sep(
            "!",
            f"{len(unseeded)} theme-vs-guidance tests SKIPPED: no seed documents in "
            "../shared/seeds (put the guidance texts there to run them)",
            yellow=True,
            bold=True,
        )
