"""An inspection's team: the inspectors who may read it. No HTTP here.

Taking part is an organisation's; reading is a person's. An inspectorate takes part in an
inspection, and of its inspectors only those named to the team (by the operator when the
inspection opens, then by the lead inspector) read it: every other inspector of that
inspectorate is answered 404, as if the inspection did not exist. The lead is always on the
team. The operator may name an inspector of an inspectorate that does not take part yet (it
joins, as when the operator names the lead); the lead names only inspectors of inspectorates
already taking part.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.models import ApiClient
from app.auth.roles import Role
from app.core.errors import Conflict, InvalidContent, NotFound, ProblemItem
from app.inspections import repository
from app.inspections.context import InspectionContext
from app.inspections.models import InspectionTeamMember
from app.inspections.participation import join
from app.organisations.kinds import INSPECTORATE_KINDS, OrganisationKind
from app.organisations.models import Organisation

_INSPECTOR_ROLES = frozenset({Role.INSPECTOR.value, Role.LEAD_INSPECTOR.value})


@dataclass(frozen=True)
class TeamMember:
    principal_id: uuid.UUID
    name: str
    organisation_id: uuid.UUID
    organisation_name: str
    organisation_kind: OrganisationKind
    roles: tuple[str, ...]
    is_lead: bool
    added_at: datetime


def _member(
    context: InspectionContext,
    member: InspectionTeamMember,
    client: ApiClient,
    organisation: Organisation,
) -> TeamMember:
    return TeamMember(
        principal_id=client.id,
        name=client.name,
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        organisation_kind=organisation.kind,
        roles=tuple(client.roles),
        is_lead=context.inspection.lead_client_id == client.id,
        added_at=member.added_at,
    )


def read_team(session: Session, context: InspectionContext) -> list[TeamMember]:
    return [_member(context, *row) for row in repository.team(session, context.inspection.id)]


def read_team_member(
    session: Session, context: InspectionContext, principal_id: uuid.UUID
) -> TeamMember:
    for member in read_team(session, context):
        if member.principal_id == principal_id:
            return member
    raise NotFound("That principal is not on this inspection's team.")


def _refuse(field: str, code: str, message: str) -> InvalidContent:
    return InvalidContent(
        message, code=code, errors=[ProblemItem(field=field, code=code, message=message)]
    )


def _inspector(session: Session, principal_id: uuid.UUID, field: str) -> ApiClient:
    """The active inspector ``principal_id`` names, or why it cannot join a team."""
    client = repository.client(session, principal_id)
    if client is None:
        if field.startswith("path."):
            raise NotFound("No such principal.")
        raise _refuse(field, "unknown_principal", "no principal has this id")
    if client.disabled_at is not None:
        raise _refuse(field, "principal_disabled", "the principal is disabled")
    organisation = repository.organisation_of(session, client)
    if organisation.kind not in INSPECTORATE_KINDS or not _INSPECTOR_ROLES & set(client.roles):
        raise _refuse(
            field,
            "not_an_inspector",
            "only an inspector or lead inspector of an inspectorate joins a team",
        )
    return client


def _check_taking_part(
    session: Session, context: InspectionContext, client: ApiClient, field: str
) -> None:
    """The member's inspectorate must take part; the operator (or the platform) may make it."""
    principal = context.principal
    if principal is None or principal.is_operator:
        join(session, context, client.organisation_id)
        return
    if repository.participant(session, context.inspection.id, client.organisation_id) is None:
        raise _refuse(
            field,
            "organisation_not_participating",
            "the principal's inspectorate does not take part in this inspection",
        )


def put_on_team(
    session: Session, context: InspectionContext, client: ApiClient
) -> InspectionTeamMember:
    """Idempotent: the member's row, added (and audited) if it was not there."""
    existing = repository.team_member(session, context.inspection.id, client.id)
    if existing is not None:
        return existing
    member = InspectionTeamMember(
        inspection_id=context.inspection.id,
        principal_id=client.id,
        organisation_id=client.organisation_id,
    )
    session.add(member)
    session.flush()
    audit.record(
        session,
        context.principal,
        "inspection.team_member_added",
        "client",
        client.id,
        inspection_id=context.inspection.id,
    )
    return member


def add_team_member(
    session: Session,
    context: InspectionContext,
    principal_id: uuid.UUID,
    *,
    field: str = "path.principal_id",
) -> TeamMember:
    """Name an inspector to the team; naming one already on it changes nothing."""
    client = _inspector(session, principal_id, field)
    _check_taking_part(session, context, client, field)
    put_on_team(session, context, client)
    return read_team_member(session, context, client.id)


def remove_team_member(
    session: Session, context: InspectionContext, principal_id: uuid.UUID
) -> None:
    member = repository.team_member(session, context.inspection.id, principal_id)
    if member is None:
        raise NotFound("That principal is not on this inspection's team.")
    if context.inspection.lead_client_id == principal_id:
        raise Conflict(
            "The lead inspector is always on the team; name another lead first.",
            code="cannot_remove_lead",
        )
    take_off_team(session, context, member)


def take_off_team(
    session: Session, context: InspectionContext, member: InspectionTeamMember
) -> None:
    session.delete(member)
    session.flush()
    audit.record(
        session,
        context.principal,
        "inspection.team_member_removed",
        "client",
        member.principal_id,
        inspection_id=context.inspection.id,
    )
