"""Migration e1: selections made before the lead could override a rule keep their children,
with no reason and nothing overridden; going back drops only the two columns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from app.core.database import make_engine, make_session_factory
from app.core.migrations import alembic_config
from app.inspections.models import Inspection
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation
from app.selections.models import Selection


def test_earlier_selections_override_nothing(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    before = ScriptDirectory.from_config(config).get_revision("e1").down_revision
    assert isinstance(before, str)
    command.upgrade(config, "head")
    engine = make_engine(empty_database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            council = Organisation(
                name="Council", name_key="council", kind=OrganisationKind.LOCAL_AUTHORITY
            )
            session.add(council)
            session.flush()
            inspection = Inspection(
                area_name="Area",
                local_authority_id=council.id,
                theme="mental-health",
                notification_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
            )
            session.add(inspection)
            session.flush()
            session.add(
                Selection(
                    inspection_id=inspection.id,
                    key="tracked",
                    child_ids=["C1", "C2"],
                    changed_by_client_id=uuid.uuid4(),
                    override_reason="A reason that goes with the column.",
                )
            )
        command.downgrade(config, before)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT key FROM selections")).scalars().all() == [
                "tracked"
            ]
        command.upgrade(config, "head")
        with make_session_factory(engine)() as session:
            selection = session.execute(select(Selection)).scalar_one()
        assert selection.child_ids == ["C1", "C2"]
        assert (selection.override_reason, selection.overrides) == (None, [])
    finally:
        engine.dispose()
