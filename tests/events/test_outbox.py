"""The outbox: an event exists if and only if its change commits, in commit order."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.core.errors import InvalidContent
from app.events.models import Event
from app.events.outbox import ORDER, START, Audience, Position, emit, parse_cursor, settled_after


def _emit(session: Session, resource_id: str) -> None:
    emit(
        session,
        "list.pushed",
        inspection_id=uuid.uuid4(),
        resource_type="list_version",
        resource_id=resource_id,
        url=f"/v1/things/{resource_id}",
        audience=Audience(organisations=(uuid.uuid4(),)),
    )


def _settled(engine: Engine, after: Position = START) -> list[str]:
    with Session(engine) as session:
        rows = session.execute(
            select(Event).where(*settled_after(session, after)).order_by(*ORDER)
        ).scalars()
        return [row.resource_id for row in rows]


@pytest.mark.commits
def test_an_event_exists_only_if_its_change_commits(engine: Engine) -> None:
    with Session(engine) as session:
        _emit(session, "kept")
        session.commit()
    with Session(engine) as session:
        _emit(session, "rolled-back")
        session.flush()
        session.rollback()
    assert _settled(engine) == ["kept"]


@pytest.mark.commits
def test_ids_follow_commit_order_so_a_reader_never_passes_a_slower_writer(
    engine: Engine, db_kind: str
) -> None:
    """The first writer emits first but commits last: its event must come second."""
    if db_kind != "postgresql":
        pytest.skip("SQLite runs one writer at a time: there is no slower writer to pass")
    slow = Session(engine)
    _emit(slow, "slow")
    slow.flush()
    fast_committed = threading.Event()

    def fast_writer() -> None:
        with Session(engine) as fast:
            _emit(fast, "fast")
            fast.commit()
        fast_committed.set()

    writer = threading.Thread(target=fast_writer)
    writer.start()
    assert fast_committed.wait(10)
    assert _settled(engine) == ["fast"]
    after_fast = Position.of(_first(engine))
    slow.commit()
    slow.close()
    writer.join()
    assert _settled(engine, after_fast) == ["slow"]


def _first(engine: Engine) -> Event:
    with Session(engine) as session:
        row = session.execute(select(Event).order_by(*ORDER)).scalars().first()
        assert row is not None
        return row


def test_cursors_round_trip_and_hostile_ones_are_refused() -> None:
    assert parse_cursor(Position(1234).cursor()) == Position(1234)
    assert parse_cursor(None) == START
    for hostile in ("x", "-1", "1.2", "٣", "9" * 30, " 1"):
        with pytest.raises(InvalidContent):
            parse_cursor(hostile)
