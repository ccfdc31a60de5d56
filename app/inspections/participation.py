"""Organisations joining an inspection: the one place a participant is added. No HTTP here."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.core.errors import InvalidContent, NotFound, ProblemItem
from app.inspections import repository
from app.inspections.context import Change, InspectionContext
from app.inspections.models import InspectionParticipant
from app.organisations import repository as organisations
from app.organisations.kinds import OrganisationKind


def _refused(code: str, message: str) -> InvalidContent:
    problem = ProblemItem(field="path.organisation_id", code=code, message=message)
    return InvalidContent(message, code=code, errors=[problem])


def join(session: Session, context: InspectionContext, organisation_id: uuid.UUID) -> bool:
    """Idempotent; answers whether the organisation was newly added (only then audited, and
    only then are those who derive from the participants told)."""
    organisation = organisations.organisation(session, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    if organisation.kind is OrganisationKind.PLATFORM:
        raise _refused(
            "cannot_participate", "the platform operator does not take part in inspections"
        )
    reason = context.theme.out_of_scope_reason(organisation.kind.value)
    if reason is not None:
        raise _refused(
            "out_of_theme_scope",
            f"a {organisation.kind.value} organisation does not take part in this theme: {reason}",
        )
    inspection = context.inspection
    if repository.participant(session, inspection.id, organisation.id) is not None:
        return False
    session.add(InspectionParticipant(inspection_id=inspection.id, organisation_id=organisation.id))
    session.flush()
    context.changed(session, Change.PARTICIPANTS)
    audit.record(
        session,
        context.principal,
        "inspection.participant_added",
        "organisation",
        organisation_id,
        inspection_id=inspection.id,
    )
    return True
