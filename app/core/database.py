"""Engine, sessions and the declarative base shared by every domain's models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, Integer, MetaData, create_engine, event, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from app.core.private_files import create_private_file, restrict_to_owner

# Stable constraint names, so Alembic can alter and drop them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _make_sqlite_engine(url)
    # As many kept as there are worker threads to run requests (anyio's 40; a request holds
    # a connection only while it runs in one), and a few more for the background jobs and
    # commits: with 20 kept, a busy server opened and closed PostgreSQL connections all the
    # time, a backend started for each (py-spy of page reads at 50 clients).
    return create_engine(url, pool_pre_ping=True, pool_size=40, max_overflow=10)


def _sqlite_file(url: str) -> Path | None:
    """The database file a SQLite URL names; None for an in-memory or ``file:`` URI database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _sqlite_files(database: Path) -> list[Path]:
    return [database, *(database.with_name(database.name + end) for end in ("-wal", "-shm"))]


def _make_sqlite_engine(url: str) -> Engine:
    database = _sqlite_file(url)
    if database is not None:
        # Created empty and 0600 (an empty file is a valid database) before SQLite opens it:
        # SQLite would create it 0644 less the umask. Its -wal and -shm, made whenever a first
        # connection opens the database again, take the database file's mode from it.
        create_private_file(database)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is off so that BEGIN IMMEDIATE below takes
        # the write lock up front; a deferred BEGIN can fail to upgrade under concurrency.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        if database is not None:
            # A database an older release made 0644 (and its -wal and -shm) is closed up too.
            for path in _sqlite_files(database):
                restrict_to_owner(path)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def on_postgresql(session: Session) -> bool:
    """Whether the session's database is PostgreSQL (else SQLite, the embedded default)."""
    return session.get_bind().dialect.name == "postgresql"


def release_between_hops(session: Session) -> None:
    """End the transaction a request's dependency began before the request moves to its next
    worker thread, giving its connection back to the pool.

    A request holding a connection (on SQLite, the write lock that BEGIN IMMEDIATE takes even
    for a read) while it waits for a thread can wait for ever: once every thread is taken by
    requests waiting for a connection, nothing moves until the pool's timeout. A burst of a
    hundred requests stalled the whole service for 30 seconds and answered 500s; on
    PostgreSQL it takes as many requests in flight as threads and connections together.
    Released here, a connection is only held by a request that is running in a thread, or
    committing (which never waits for a shared thread). It costs a COMMIT per request on
    PostgreSQL, whose READ COMMITTED reads see a fresh snapshot per statement anyway."""
    if session.in_transaction():
        session.commit()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed when the block ends cleanly, rolled back otherwise."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class position_in(FunctionElement[int]):  # noqa: N801  # lower case, as SQL functions read
    """``position_in(text, part)``: where ``part`` first occurs in ``text`` (from 1), else 0.

    Case-sensitive and literal on both databases, unlike LIKE (case-blind for ASCII on
    SQLite, and needing its wildcards escaped): PostgreSQL's ``strpos``, SQLite's ``instr``.
    """

    type = Integer()
    name = "position_in"
    inherit_cache = True


@compiles(position_in)
def _strpos(element: position_in, compiler: SQLCompiler, **kw: Any) -> str:
    text, part = element.clauses
    return f"strpos({compiler.process(text, **kw)}, {compiler.process(part, **kw)})"


@compiles(position_in, "sqlite")
def _instr(element: position_in, compiler: SQLCompiler, **kw: Any) -> str:
    text, part = element.clauses
    return f"instr({compiler.process(text, **kw)}, {compiler.process(part, **kw)})"


def as_utc(moment: datetime | str | None) -> datetime | None:
    return None if moment is None else aware(moment)


def aware(moment: datetime | str) -> datetime:
    # An aggregate loses the column's type on SQLite, which hands back text or naive values.
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
