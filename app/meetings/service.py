"""The multi-agency meetings of the fieldwork week: checked, stored, and overlaps warned about."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.principal import Principal
from app.core.database import utcnow
from app.core.errors import Forbidden, InvalidContent, NotFound, ProblemItem
from app.core.preconditions import check_version
from app.events import audiences as events
from app.inspections.context import InspectionContext
from app.inspections.models import Inspection
from app.meetings import repository
from app.meetings.models import Meeting
from app.meetings.schemas import MeetingWarning, MeetingWrite
from app.themes.schema.theme import Theme

MEETINGS = "meetings_recorded"


def check_may_record(principal: Principal, theme: Theme) -> None:
    """The agencies the theme's meetings milestone names record the meetings (MH para 40 asks
    "the local agencies"; DA para 22 the local authority)."""
    milestone = theme.milestone_satisfied_by(MEETINGS)
    responsible = milestone.responsible if milestone is not None else ("local_authority",)
    if not principal.is_agency or principal.organisation_kind.value not in responsible:
        raise Forbidden(
            f"The meetings of this inspection are recorded by: {', '.join(responsible)}.",
            code="not_responsible_for_meetings",
        )


def check_may_change(principal: Principal, inspection: Inspection, meeting: Meeting) -> None:
    """A meeting is changed by the agency that recorded it, or by the local authority, which
    coordinates the fieldwork week; another agency's meeting is not its to change."""
    if principal.organisation_id not in (
        meeting.recorded_by_organisation_id,
        inspection.local_authority_id,
    ):
        raise Forbidden(
            "Only the agency that recorded this meeting, or the local authority, may change it.",
            code="not_meeting_recorder",
        )


def _problems(
    session: Session, inspection: Inspection, theme: Theme, body: MeetingWrite
) -> Iterator[ProblemItem]:
    kinds = [kind.key for kind in theme.meeting_kinds]
    if body.kind not in kinds:
        message = f"one of: {', '.join(kinds)}"
        yield ProblemItem(field="body.kind", code="unknown_meeting_kind", message=message)
    if body.ends_at <= body.starts_at:
        yield ProblemItem(field="body.ends_at", code="ends_before_start", message="after start")
    if body.place is None and body.call_link is None:
        message = "give the place or the call link"
        yield ProblemItem(field="body.place", code="place_missing", message=message)
    participants = repository.participant_ids(session, inspection.id)
    for index, organisation_id in enumerate(body.organisation_ids):
        if organisation_id not in participants:
            yield ProblemItem(
                field=f"body.organisation_ids.{index}",
                code="not_a_participant",
                message="the organisation does not take part in this inspection",
                value=str(organisation_id),
            )


def check_meeting(
    session: Session, inspection: Inspection, theme: Theme, body: MeetingWrite
) -> None:
    problems = list(_problems(session, inspection, theme, body))
    if problems:
        raise InvalidContent(
            "The meeting cannot be recorded.", code="invalid_meeting", errors=problems
        )


def _apply(meeting: Meeting, body: MeetingWrite, principal: Principal) -> None:
    meeting.kind = body.kind
    meeting.starts_at, meeting.ends_at = body.starts_at, body.ends_at
    meeting.place, meeting.call_link = body.place, body.call_link
    meeting.organisation_ids = list(dict.fromkeys(str(o) for o in body.organisation_ids))
    meeting.child_ids = list(dict.fromkeys(body.child_ids))
    meeting.changed_at, meeting.changed_by_client_id = utcnow(), principal.client_id


def _audit(
    session: Session, context: InspectionContext, action: str, meeting: Meeting, **detail: object
) -> None:
    audit.record(
        session,
        context.principal,
        action,
        "meeting",
        meeting.id,
        inspection_id=meeting.inspection_id,
        detail={"kind": meeting.kind, "child_ids": meeting.child_ids, **detail},
    )
    # Created, changed or deleted alike: the consumer re-reads the meetings.
    events.meeting_changed(session, meeting.inspection_id, meeting.id)


def create_meeting(session: Session, context: InspectionContext, body: MeetingWrite) -> Meeting:
    """Record a meeting (an agency the theme names), checked against the theme."""
    inspection, principal = context.inspection, context.actor
    check_may_record(principal, context.theme)
    check_meeting(session, inspection, context.theme, body)
    meeting = Meeting(
        inspection_id=inspection.id,
        version=1,
        created_at=utcnow(),
        recorded_by_organisation_id=principal.organisation_id,
    )
    _apply(meeting, body, principal)
    session.add(meeting)
    session.flush()
    _audit(session, context, "meeting.created", meeting)
    return meeting


def get_meeting(session: Session, inspection_id: uuid.UUID, meeting_id: uuid.UUID) -> Meeting:
    meeting = repository.meeting(session, meeting_id)
    if meeting is None or meeting.inspection_id != inspection_id:
        raise NotFound("No such meeting in this inspection.")
    return meeting


def update_meeting(
    session: Session,
    context: InspectionContext,
    meeting_id: uuid.UUID,
    body: MeetingWrite,
    if_match: int | None,
) -> Meeting:
    """Change a meeting; 412 when If-Match names a version that is no longer current."""
    inspection, principal = context.inspection, context.actor
    check_may_record(principal, context.theme)
    meeting = get_meeting(session, inspection.id, meeting_id)
    check_may_change(principal, inspection, meeting)
    check_meeting(session, inspection, context.theme, body)
    check_version(meeting.version, if_match, "meeting")
    _apply(meeting, body, principal)
    meeting.version += 1
    session.flush()
    _audit(session, context, "meeting.changed", meeting, version=meeting.version)
    return meeting


def delete_meeting(session: Session, context: InspectionContext, meeting_id: uuid.UUID) -> None:
    check_may_record(context.actor, context.theme)
    meeting = get_meeting(session, context.inspection.id, meeting_id)
    check_may_change(context.actor, context.inspection, meeting)
    _audit(session, context, "meeting.deleted", meeting)
    session.delete(meeting)
    session.flush()


def read_meetings(session: Session, context: InspectionContext) -> list[Meeting]:
    """Every meeting of the inspection, earliest first; the read is audited."""
    meetings = list_meetings(session, context.inspection.id)
    audit.record(
        session,
        context.principal,
        "meetings.listed",
        "inspection",
        context.inspection.id,
        inspection_id=context.inspection.id,
        detail={"meetings": len(meetings)},
    )
    return meetings


def list_meetings(session: Session, inspection_id: uuid.UUID) -> list[Meeting]:
    """Every meeting of the inspection, earliest first, unaudited: what a meeting's overlap
    warnings are worked out against."""
    return repository.meetings_of(session, inspection_id)


def overlaps(meeting: Meeting, others: list[Meeting]) -> list[MeetingWarning]:
    """An organisation in two meetings at once: a warning, as double bookings do happen."""
    warnings = []
    for other in others:
        if other.id == meeting.id:
            continue
        if not (other.starts_at < meeting.ends_at and meeting.starts_at < other.ends_at):
            continue
        for organisation_id in meeting.organisation_ids:
            if organisation_id in other.organisation_ids:
                warnings.append(
                    MeetingWarning(
                        code="overlapping_meeting",
                        message="the organisation is in another meeting at the same time",
                        organisation_id=uuid.UUID(organisation_id),
                        meeting_id=other.id,
                    )
                )
    return warnings
