"""Which events a reader hears of, in order: the one rule the feed and every webhook use.

A reader hears of an event when it is a recipient (named, an inspector when inspectors are,
a participant when all are), holds the role the event asks for, and may read the inspection
the event is about: its organisation takes part and, for an inspector, they are on its team.
So a police agency is never told of a health request, and an inspector off the team hears
nothing of the inspection.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from app.events.models import Event, EventRecipient
from app.events.outbox import ORDER, Position, settled_after
from app.inspections.models import InspectionParticipant, InspectionTeamMember


@dataclass(frozen=True)
class EventReader:
    """Who reads: a principal of an organisation, with its roles (values of auth's Role)."""

    principal_id: uuid.UUID
    organisation_id: uuid.UUID
    roles: frozenset[str]
    is_inspector: bool


def visible_events(
    session: Session, reader: EventReader, after: Position, limit: int
) -> Sequence[Event]:
    """The reader's next events after ``after``, oldest first, at most ``limit``."""
    query = (
        select(Event)
        .where(*settled_after(session, after), _hears_of(reader))
        .order_by(*ORDER)
        .limit(limit)
    )
    return session.execute(query).scalars().all()


def _hears_of(reader: EventReader) -> ColumnElement[bool]:
    return and_(
        or_(Event.required_role.is_(None), Event.required_role.in_(sorted(reader.roles))),
        or_(_named(reader), _as_participant(reader)),
    )


def _named(reader: EventReader) -> ColumnElement[bool]:
    named = exists().where(
        EventRecipient.event_id == Event.id,
        EventRecipient.organisation_id == reader.organisation_id,
    )
    return and_(named, or_(Event.inspection_id.is_(None), _reads_inspection(reader)))


def _as_participant(reader: EventReader) -> ColumnElement[bool]:
    as_inspector = Event.to_inspectors if reader.is_inspector else false()
    return and_(
        Event.inspection_id.is_not(None),
        or_(Event.to_participants, as_inspector),
        _reads_inspection(reader),
    )


def _reads_inspection(reader: EventReader) -> ColumnElement[bool]:
    takes_part = exists().where(
        InspectionParticipant.inspection_id == Event.inspection_id,
        InspectionParticipant.organisation_id == reader.organisation_id,
    )
    on_team = (
        exists().where(
            InspectionTeamMember.inspection_id == Event.inspection_id,
            InspectionTeamMember.principal_id == reader.principal_id,
            InspectionTeamMember.organisation_id == reader.organisation_id,
        )
        if reader.is_inspector
        else true()
    )
    return and_(takes_part, on_team)
