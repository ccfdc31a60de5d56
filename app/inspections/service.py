"""Inspections, who takes part and who leads; no HTTP here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.models import ApiClient
from app.auth.principal import Principal
from app.auth.roles import Role
from app.core.database import utcnow
from app.core.errors import Conflict, InvalidContent, NotFound, ProblemItem
from app.events import audiences as events
from app.inspections import repository, team
from app.inspections.context import Change, InspectionContext, InspectionContexts
from app.inspections.models import (
    STATUS_ORDER,
    Inspection,
    InspectionParticipant,
    InspectionStatus,
)
from app.inspections.participation import join
from app.inspections.repository import Viewer
from app.organisations import repository as organisations
from app.organisations.kinds import OrganisationKind
from app.organisations.models import Organisation


def _invalid(field: str, code: str, message: str) -> InvalidContent:
    return InvalidContent(
        message, code=code, errors=[ProblemItem(field=field, code=code, message=message)]
    )


@dataclass(frozen=True)
class NewInspection:
    area_name: str
    local_authority_id: uuid.UUID
    theme: str
    notification_at: datetime
    # Inspectors named to the team from the start; their inspectorates join.
    team: Sequence[uuid.UUID] = ()


def open_inspection(
    session: Session,
    contexts: InspectionContexts,
    principal: Principal | None,
    request: NewInspection,
) -> InspectionContext:
    """Open an inspection of a local authority's area, which takes part from the start."""
    if request.theme not in contexts.known_themes():
        themes = ", ".join(sorted(contexts.known_themes()))
        raise _invalid("body.theme", "unknown_theme", f"theme must be one of: {themes}")
    authority = organisations.organisation(session, request.local_authority_id)
    if authority is None or authority.kind is not OrganisationKind.LOCAL_AUTHORITY:
        raise _invalid(
            "body.local_authority_id",
            "not_a_local_authority",
            "local_authority_id must name an organisation of kind local_authority",
        )
    inspection = Inspection(
        area_name=request.area_name,
        local_authority_id=authority.id,
        theme=request.theme,
        notification_at=request.notification_at,
    )
    session.add(inspection)
    session.flush()
    session.add(InspectionParticipant(inspection_id=inspection.id, organisation_id=authority.id))
    session.flush()
    context = contexts.for_inspection(principal, inspection)
    context.changed(session, Change.OPENED)
    audit.record(
        session,
        principal,
        "inspection.created",
        "inspection",
        inspection.id,
        inspection_id=inspection.id,
        detail={"theme": inspection.theme, "area_name": inspection.area_name},
    )
    for index, principal_id in enumerate(request.team):
        team.add_team_member(session, context, principal_id, field=f"body.team.{index}")
    return context


def viewer(principal: Principal) -> Viewer:
    """What the caller may see of inspections: the operator every one (never their child
    data: its scopes see to that), an agency those its organisation takes part in, an
    inspector those whose team it is on."""
    if principal.is_operator:
        return Viewer(None)
    if principal.is_inspector:
        return Viewer(principal.organisation_id, team_member=principal.client_id)
    return Viewer(principal.organisation_id)


@dataclass(frozen=True)
class InspectionWarning:
    """Something about the inspection that departs from its theme's guidance, but may be right."""

    code: str
    message: str


def warnings_for(contexts: InspectionContexts, inspection: Inspection) -> list[InspectionWarning]:
    """The guidance notifies areas on a set weekday (D0, which its deadlines count from); a
    notification on another day is allowed, a bank holiday may move it, but it is said."""
    theme = contexts.theme(inspection.theme)
    notified = inspection.notification_at.astimezone(contexts.clock.tz)
    expected = theme.notification
    if notified.weekday() == expected.weekday_index:
        return []
    message = (
        f"notified on a {notified:%A}; the '{theme.key}' guidance notifies areas on a "
        f"{expected.weekday.capitalize()} ({expected.reference})"
    )
    return [InspectionWarning("notification_day_not_theme_day", message)]


def get_visible(session: Session, principal: Principal, inspection_id: uuid.UUID) -> Inspection:
    """The inspection if the caller may know it exists; otherwise 404, as if it did not."""
    inspection = repository.visible_inspection(session, inspection_id, viewer(principal))
    if inspection is None:
        raise NotFound("No such inspection.")
    return inspection


def list_visible(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[Sequence[Inspection], int]:
    return repository.page_of_inspections(session, viewer(principal), limit=limit, offset=offset)


def participants(
    session: Session, inspection_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[InspectionParticipant, Organisation]]]:
    return repository.participants(session, inspection_ids)


def add_participant(
    session: Session, context: InspectionContext, organisation_id: uuid.UUID
) -> bool:
    """Idempotent; answers whether the organisation was newly added (only then audited)."""
    return join(session, context, organisation_id)


def remove_participant(
    session: Session, context: InspectionContext, organisation_id: uuid.UUID
) -> None:
    inspection = context.inspection
    participant = repository.participant(session, inspection.id, organisation_id)
    if participant is None:
        raise NotFound("That organisation does not take part in this inspection.")
    if organisation_id == inspection.local_authority_id:
        raise Conflict(
            "The inspected local authority always takes part.", code="cannot_remove_local_authority"
        )
    lead_id = inspection.lead_client_id
    lead = repository.client(session, lead_id) if lead_id else None
    if lead is not None and lead.organisation_id == organisation_id:
        raise Conflict("Name another lead inspector first.", code="cannot_remove_lead_organisation")
    for member in repository.team_members_of(session, inspection.id, organisation_id):
        team.take_off_team(session, context, member)
    session.delete(participant)
    session.flush()
    context.changed(session, Change.PARTICIPANTS)
    audit.record(
        session,
        context.principal,
        "inspection.participant_removed",
        "organisation",
        organisation_id,
        inspection_id=inspection.id,
    )


def set_lead(session: Session, context: InspectionContext, client_id: uuid.UUID) -> ApiClient:
    """Name the lead inspector; their inspectorate joins the inspection if it had not."""
    client = repository.client(session, client_id)
    if client is None or client.disabled_at is not None:
        raise _invalid("body.client_id", "unknown_client", "client_id must name an active client")
    if Role.LEAD_INSPECTOR.value not in client.roles:
        raise _invalid(
            "body.client_id",
            "not_a_lead_inspector",
            "the client does not hold the lead_inspector role",
        )
    inspection = context.inspection
    join(session, context, client.organisation_id)
    team.put_on_team(session, context, client)
    inspection.lead_client_id = client.id
    inspection.version += 1
    session.flush()
    audit.record(
        session,
        context.principal,
        "inspection.lead_set",
        "client",
        client.id,
        inspection_id=inspection.id,
    )
    return client


def change_status(session: Session, context: InspectionContext, target: InspectionStatus) -> None:
    inspection = context.inspection
    previous = inspection.status
    current = STATUS_ORDER.index(previous)
    if STATUS_ORDER.index(target) != current + 1:
        raise Conflict(
            f"An inspection moves {' -> '.join(STATUS_ORDER)} one step at a time; "
            f"it is '{inspection.status.value}'.",
            code="invalid_status_transition",
        )
    inspection.status = target
    inspection.status_changed_at = utcnow()
    inspection.version += 1
    session.flush()
    audit.record(
        session,
        context.principal,
        "inspection.status_changed",
        "inspection",
        inspection.id,
        inspection_id=inspection.id,
        detail={"from": previous.value, "to": target.value},
    )
    events.inspection_status_changed(session, inspection.id)


def may_see_agency_object(
    session: Session, principal: Principal, inspection_id: uuid.UUID, owner_id: uuid.UUID
) -> bool:
    """An object one agency owns (a request to it, a document from it): that agency sees it,
    and so do the inspectors on its inspection's team; nobody else does."""
    if principal.is_agency:
        return owner_id == principal.organisation_id
    if principal.is_inspector:
        return repository.visible_inspection(session, inspection_id, viewer(principal)) is not None
    return False
