"""Alembic environment: the URL comes from JTAI settings unless the caller passes a connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from app.core.config import get_settings
from app.core.database import make_engine
from app.models import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url
    engine = make_engine(url)
    with engine.connect() as new_connection:
        if new_connection.dialect.name == "sqlite":
            # A batch migration recreates a table by dropping it; with foreign keys enforced,
            # SQLite's drop deletes the rows that reference it (ON DELETE CASCADE) on the way.
            # The pragma only takes effect outside a transaction, hence on the driver's
            # connection before SQLAlchemy begins one.
            driver = new_connection.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA foreign_keys=OFF")
        _run(new_connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run them against a database.")
run_migrations_online()
