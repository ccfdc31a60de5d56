"""Migration g1: organisations get a unique name key; duplicates registered before it stay,
told apart by their id, and no new duplicate gets in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError

from app.core.database import make_engine
from app.core.migrations import alembic_config

ORGANISATIONS = sa.table(
    "organisations",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def test_existing_duplicates_are_kept_and_new_ones_refused(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "r1")
    first, second, other_kind = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                ORGANISATIONS.insert(),
                [
                    {
                        "id": first,
                        "name": "Demoshire Police",
                        "kind": "police",
                        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                    },
                    {
                        "id": second,
                        "name": " demoshire  POLICE",
                        "kind": "police",
                        "created_at": datetime(2026, 1, 2, tzinfo=UTC),
                    },
                    {
                        "id": other_kind,
                        "name": "Demoshire Police",
                        "kind": "local_authority",
                        "created_at": datetime(2026, 1, 3, tzinfo=UTC),
                    },
                ],
            )
        command.upgrade(config, "o1")
        with engine.begin() as connection:
            keys = dict(connection.execute(sa.text("SELECT id, name_key FROM organisations")).all())
        keys = {uuid.UUID(str(k)): v for k, v in keys.items()}
        assert keys[first] == "demoshire police"
        assert keys[second] == f"demoshire police {second}"
        assert keys[other_kind] == "demoshire police"
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO organisations (id, name, kind, created_at, name_key) "
                    "VALUES (:id, 'x', 'police', :at, 'demoshire police')"
                ),
                {"id": uuid.uuid4().hex, "at": datetime(2026, 2, 1, tzinfo=UTC)},
            )
        command.downgrade(config, "r1")
    finally:
        engine.dispose()
