"""Deadline reminders, sent by the background jobs: ``deadline.approaching`` before each
milestone's due time and ``deadline.overdue`` once it has passed unmet.

When. Each offset of JTAI_REMINDER_OFFSETS (default ``working_morning,2h``) is a moment before
the due time: ``working_morning`` is 09:00 (the deployment's time zone) on the due day, or on
the working day before it when the due day is not a working day (weekend, bank holiday) or the
milestone is due at or before 09:00, so a Tuesday 09:00 deadline after a bank holiday Monday
is reminded of on the Friday morning; ``2h`` and ``30m`` are that long before the due time. A
run sends, per milestone, only the latest approaching reminder whose moment has come and only
while the due time is still ahead: a service that was down through several moments sends one,
and one that was down past the due time sends only the overdue one. Reminders are sent when
the jobs run (every JTAI_SWEEP_INTERVAL_SECONDS), so up to that late.

Who. The organisations taking part whose kind the theme names responsible for the milestone,
each keyed on its own; the inspectors on the team when the theme names an inspector role, and
always of an overdue milestone (the lead must know). A milestone is met, and reminded of no
more, when the live schedule says so (everything it asks for delivered, by every responsible
organisation): until then every responsible organisation hears, including one that has done
its part.

Once. Each reminder is a ``sent_reminders`` row keyed on (inspection, milestone, organisation,
kind, due time), inserted or skipped on conflict in the transaction of its event: two runners
on PostgreSQL queue on the key and the second skips; a restart finds the rows. The due time is
in the key, so a milestone moved (milestone.moved) is reminded of again for its new time, and
moving it back to a time already reminded of sends nothing twice.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.database import on_postgresql, session_scope, utcnow
from app.deadlines.working_days import is_working_day
from app.events.models import SentReminder
from app.events.outbox import Audience, emit
from app.inspections.context import InspectionContexts
from app.inspections.models import Inspection, InspectionStatus
from app.inspections.repository import participants
from app.schedule.live import MilestoneStatus, schedule_for

logger = logging.getLogger("jtai.reminders")

APPROACHING = "deadline.approaching"
OVERDUE = "deadline.overdue"
WORKING_MORNING = "working_morning"
MORNING = time(9, 0)
# The key of the reminders addressed to the inspection's inspectors rather than to an
# organisation taking part.
INSPECTORS = uuid.UUID(int=0)
_INSPECTOR_PARTIES = frozenset({"lead_inspector", "inspector"})
_SENT = cast(Table, SentReminder.__table__)
_OFFSET = re.compile(r"([0-9]+)([hm])")


@dataclass(frozen=True)
class Offset:
    """One moment before a due time: the working morning, or a fixed time before."""

    name: str
    before: timedelta | None  # None: the working morning

    def fires_at(self, due_at: datetime, tz: ZoneInfo) -> datetime:
        if self.before is not None:
            return due_at - self.before
        return working_morning(due_at, tz)


def working_morning(due_at: datetime, tz: ZoneInfo) -> datetime:
    """09:00 of the last working day whose 09:00 comes before the due time."""
    day = due_at.astimezone(tz).date()
    while True:
        morning = datetime.combine(day, MORNING, tzinfo=tz)
        if is_working_day(day) and morning < due_at:
            return morning
        day -= timedelta(days=1)


def parse_offsets(text: str) -> tuple[Offset, ...]:
    """The offsets of JTAI_REMINDER_OFFSETS (already checked by the settings)."""
    offsets = []
    for token in filter(None, (part.strip() for part in text.split(","))):
        if token == WORKING_MORNING:
            offsets.append(Offset(token, None))
            continue
        match = _OFFSET.fullmatch(token)
        if match is None:
            raise ValueError(f"unknown reminder offset {token!r}")
        amount, unit = int(match.group(1)), match.group(2)
        offsets.append(
            Offset(token, timedelta(hours=amount) if unit == "h" else timedelta(minutes=amount))
        )
    return tuple(offsets)


@dataclass(frozen=True)
class ReminderPlan:
    """What the reminder job needs of the deployment: its themes and clock, and the offsets."""

    contexts: InspectionContexts
    offsets: tuple[Offset, ...]

    @classmethod
    def from_settings(cls, settings: Settings, contexts: InspectionContexts) -> ReminderPlan:
        return cls(contexts, parse_offsets(settings.reminder_offsets))


@dataclass(frozen=True)
class Due:
    """The reminder a milestone is due now."""

    event_type: str
    kind: str  # "overdue", or "approaching:<offset>"


def due_reminder(
    status: MilestoneStatus, offsets: Sequence[Offset], tz: ZoneInfo, now: datetime
) -> Due | None:
    if status.met_at is not None:
        return None
    if now >= status.due_at:
        return Due(OVERDUE, "overdue")
    come = [(offset.fires_at(status.due_at, tz), offset.name) for offset in offsets]
    passed = [moment for moment in come if moment[0] <= now]
    if not passed:
        return None
    return Due(APPROACHING, f"approaching:{max(passed)[1]}")


@dataclass(frozen=True)
class ReminderReport:
    sent: int
    failed: list[str]


def send_due_reminders(
    factory: sessionmaker[Session], plan: ReminderPlan, now: datetime | None = None
) -> ReminderReport:
    """Send every reminder due at ``now`` and not yet sent; each inspection in a transaction
    of its own, so one failing does not hold back the others."""
    now = now or utcnow()
    with session_scope(factory) as session:
        ids = list(
            session.execute(
                select(Inspection.id)
                .where(Inspection.status != InspectionStatus.CLOSED)
                .order_by(Inspection.id)
            ).scalars()
        )
    sent, failed = 0, []
    for inspection_id in ids:
        try:
            with session_scope(factory) as session:
                sent += _remind(session, plan, inspection_id, now)
        except Exception:
            logger.exception("reminders failed", extra={"inspection_id": str(inspection_id)})
            failed.append(str(inspection_id))
    return ReminderReport(sent, failed)


def _remind(session: Session, plan: ReminderPlan, inspection_id: uuid.UUID, now: datetime) -> int:
    inspection = session.get(Inspection, inspection_id)
    if inspection is None or inspection.status is InspectionStatus.CLOSED:
        return 0
    clock = plan.contexts.clock
    theme = plan.contexts.theme(inspection.theme)
    members = participants(session, [inspection.id])[inspection.id]
    sent = 0
    for status in schedule_for(session, inspection, theme, clock, now):
        due = due_reminder(status, plan.offsets, clock.tz, now)
        if due is None:
            continue
        responsible = set(status.milestone.responsible)
        keys = sorted({org.id for _, org in members if org.kind.value in responsible})
        if due.event_type == OVERDUE or not responsible.isdisjoint(_INSPECTOR_PARTIES):
            keys.append(INSPECTORS)
        claimed = _claim(session, inspection.id, status, due.kind, keys, now)
        if not claimed:
            continue
        emit(
            session,
            due.event_type,
            inspection_id=inspection.id,
            resource_type="milestone",
            resource_id=status.milestone.key,
            url=f"/v1/inspections/{inspection.id}/schedule",
            audience=Audience(
                organisations=tuple(key for key in claimed if key != INSPECTORS),
                inspectors=INSPECTORS in claimed,
            ),
        )
        sent += 1
    return sent


def _claim(
    session: Session,
    inspection_id: uuid.UUID,
    status: MilestoneStatus,
    kind: str,
    keys: list[uuid.UUID],
    now: datetime,
) -> list[uuid.UUID]:
    """Insert the reminder's rows, skipping those already there (sent, or being sent by a
    runner whose transaction this one waits for); the keys that were not."""
    if not keys:
        return []
    rows = [
        {
            "inspection_id": inspection_id,
            "milestone_key": status.milestone.key,
            "organisation_id": key,
            "kind": kind,
            "due_at": status.due_at,
            "sent_at": now,
        }
        for key in keys
    ]
    insert = postgresql.insert(_SENT) if on_postgresql(session) else sqlite.insert(_SENT)
    statement = insert.values(rows).on_conflict_do_nothing().returning(_SENT.c.organisation_id)
    return list(session.execute(statement).scalars())
