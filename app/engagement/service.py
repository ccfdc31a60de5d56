"""Whether tracked children, parents and carers agreed to meet inspectors, and the arrangements."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.principal import Principal
from app.core.database import utcnow
from app.core.errors import Forbidden, InvalidContent, NotFound, PreconditionFailed, ProblemItem
from app.core.preconditions import require_version
from app.engagement import repository
from app.engagement.models import Engagement
from app.engagement.schemas import EngagementWrite
from app.inspections.context import InspectionContext
from app.selections.service import require_tracked_child
from app.themes.schema.theme import Theme

# What engagement records satisfy; the theme's milestone for it names who is responsible.
ENGAGEMENT_CONDITION = "engagement_for_tracked_children"
# A theme without such a milestone leaves the record to the local authority alone.
DEFAULT_WRITERS = ("local_authority",)


def writers(theme: Theme) -> tuple[str, ...]:
    """The organisation kinds that may write engagement records under this theme."""
    milestone = theme.milestone_satisfied_by(ENGAGEMENT_CONDITION)
    return tuple(milestone.responsible) if milestone is not None else DEFAULT_WRITERS


def check_may_write(principal: Principal, theme: Theme) -> None:
    allowed = writers(theme)
    if principal.organisation_kind.value not in allowed:
        raise Forbidden(
            f"Only these organisations record engagement under '{theme.key}': "
            f"{', '.join(allowed)}.",
            code="not_responsible_for_engagement",
        )


def check_body(body: EngagementWrite) -> None:
    refused = [
        name
        for name in ("child_agreed", "parent_agreed", "carer_agreed")
        if getattr(body, name) is False
    ]
    if refused and not body.reason_when_not:
        raise InvalidContent(
            "Say why not when someone did not agree to meet.",
            code="reason_required",
            errors=[
                ProblemItem(
                    field="body.reason_when_not",
                    code="reason_required",
                    message=f"required because {', '.join(refused)} is false",
                )
            ],
        )


def get_engagement(session: Session, inspection_id: uuid.UUID, child_id: str) -> Engagement:
    engagement = repository.engagement(session, inspection_id, child_id)
    if engagement is None:
        raise NotFound("No engagement has been recorded for this child yet.")
    return engagement


def write_engagement(
    session: Session,
    context: InspectionContext,
    child_id: str,
    body: EngagementWrite,
    if_match: int | None,
) -> Engagement:
    """Record a tracked child's engagement (by the theme's responsible organisations),
    audited; 428/412 guard against lost updates."""
    inspection, principal = context.inspection, context.actor
    require_tracked_child(session, inspection.id, child_id)
    check_may_write(principal, context.theme)
    check_body(body)
    engagement = _save(session, inspection.id, child_id, principal, body, if_match)
    audit.record(
        session,
        principal,
        "engagement.written",
        "engagement",
        child_id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={
            "version": engagement.version,
            "confirmed": body.confirmed_in_writing_at is not None,
        },
    )
    return engagement


def read_engagement(session: Session, context: InspectionContext, child_id: str) -> Engagement:
    """A tracked child's engagement record; the read is audited."""
    require_tracked_child(session, context.inspection.id, child_id)
    engagement = get_engagement(session, context.inspection.id, child_id)
    audit.record_read(
        session,
        context.principal,
        "engagement.read",
        "engagement",
        child_id,
        inspection_id=context.inspection.id,
        child_id=child_id,
        detail={"version": engagement.version},
    )
    return engagement


def _save(
    session: Session,
    inspection_id: uuid.UUID,
    child_id: str,
    principal: Principal,
    body: EngagementWrite,
    if_match: int | None,
) -> Engagement:
    # Locked as read (PostgreSQL), so two writers naming the same version are serialised and
    # the second finds it gone: one 200, the other 412, never a lost update.
    engagement = repository.locked_engagement(session, inspection_id, child_id)
    # Overwritten in place, so a change must name the version it is based on (428, 412).
    require_version(engagement.version if engagement else 0, if_match, "engagement record")
    now = utcnow()
    if engagement is None:
        engagement = Engagement(inspection_id=inspection_id, child_id=child_id, version=0)
        session.add(engagement)
    for name in ("child_agreed", "parent_agreed", "carer_agreed", "reason_when_not"):
        setattr(engagement, name, getattr(body, name))
    engagement.arrangements = body.arrangements
    engagement.confirmed_in_writing_at = body.confirmed_in_writing_at
    # Keep the first time a confirmation arrived, so re-sending it does not move the milestone.
    if body.confirmed_in_writing_at is None:
        engagement.confirmation_recorded_at = None
    elif engagement.confirmation_recorded_at is None:
        engagement.confirmation_recorded_at = now
    engagement.version += 1
    engagement.changed_at = now
    engagement.changed_by_client_id = principal.client_id
    engagement.changed_by_organisation_id = principal.organisation_id
    try:
        session.flush()
    except IntegrityError:  # two first records at once: there was no row to lock
        raise PreconditionFailed(
            "The engagement record was written by someone else meanwhile; read it and send "
            "If-Match with its version.",
            code="version_mismatch",
        ) from None
    return engagement
