"""The outbox's order: a reader never passes an event a slower transaction has yet to commit."""

from __future__ import annotations

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
        session.rollback()
    assert _settled(engine) == ["kept"]


@pytest.mark.commits
def test_a_reader_waits_for_the_slower_transaction(engine: Engine, db_kind: str) -> None:
    if db_kind != "postgresql":
        pytest.skip("SQLite runs one writer at a time: its ids are in commit order")
    slow, fast = Session(engine), Session(engine)
    _emit(slow, "slow")  # takes the lower id, commits last
    _emit(fast, "fast")
    fast.commit()
    assert _settled(engine) == []  # "fast" would be passed before "slow" arrived
    slow.commit()
    assert _settled(engine) == ["slow", "fast"]
    with Session(engine) as session:
        first = session.execute(select(Event).order_by(*ORDER)).scalars().first()
        assert first is not None
        after_first = Position.of(first)
    assert len(_settled(engine, after_first)) == 1


def test_cursors_round_trip_and_hostile_ones_are_refused() -> None:
    assert parse_cursor(Position(12, 34).cursor()) == Position(12, 34)
    assert parse_cursor(None) == START
    for hostile in ("x", "1", "1.-2", "1.2.3", "٣.٤", "9" * 30 + ".1"):
        with pytest.raises(InvalidContent):
            parse_cursor(hostile)
