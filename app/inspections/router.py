from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from app.auth.deps import authorize
from app.auth.principal import Principal
from app.core.deps import DbSession
from app.core.errors import error_responses
from app.core.pagination import Page, PageParams, page_params
from app.inspections import service, team
from app.inspections.access import (
    Contexts,
    InspectionAccess,
    authorize_inspection,
    inspection_context,
)
from app.inspections.context import InspectionContext, InspectionContexts
from app.inspections.models import Inspection
from app.inspections.schemas import (
    InspectionCreate,
    InspectionRead,
    InspectionWarningRead,
    LeadUpdate,
    ParticipantRead,
    StatusUpdate,
    TeamMemberRead,
)

router = APIRouter(prefix="/v1/inspections", tags=["inspections"])


def _read_models(
    session: Session, contexts: InspectionContexts, inspections: Sequence[Inspection]
) -> list[InspectionRead]:
    grouped = service.participants(session, [inspection.id for inspection in inspections])
    return [
        InspectionRead(
            id=inspection.id,
            area_name=inspection.area_name,
            local_authority_id=inspection.local_authority_id,
            theme=inspection.theme,
            notification_at=inspection.notification_at,
            status=inspection.status,
            lead_client_id=inspection.lead_client_id,
            created_at=inspection.created_at,
            participants=[
                ParticipantRead(
                    organisation_id=organisation.id,
                    name=organisation.name,
                    kind=organisation.kind,
                    added_at=participant.added_at,
                )
                for participant, organisation in grouped[inspection.id]
            ],
            warnings=[
                InspectionWarningRead(code=warning.code, message=warning.message)
                for warning in service.warnings_for(contexts, inspection)
            ],
        )
        for inspection in inspections
    ]


@router.post(
    "",
    status_code=201,
    response_model=InspectionRead,
    responses=error_responses(401, 403, 422),
    summary="Open an inspection of a local area on a deep-dive theme",
)
def create_inspection(
    body: InspectionCreate,
    session: DbSession,
    contexts: Contexts,
    principal: Principal = authorize("create_inspection"),
) -> InspectionRead:
    request = service.NewInspection(
        body.area_name, body.local_authority_id, body.theme, body.notification_at, body.team
    )
    context = service.open_inspection(session, contexts, principal, request)
    return _read_models(session, contexts, [context.inspection])[0]


@router.get(
    "",
    response_model=Page[InspectionRead],
    responses=error_responses(401, 403),
    summary="List the inspections the caller takes part in",
)
def list_inspections(
    session: DbSession,
    contexts: Contexts,
    paging: Annotated[PageParams, Depends(page_params)],
    principal: Principal = authorize("list_inspections"),
) -> Page[InspectionRead]:
    rows, total = service.list_visible(session, principal, limit=paging.limit, offset=paging.offset)
    return Page.build(_read_models(session, contexts, rows), paging, total)


@router.get(
    "/{inspection_id}",
    response_model=InspectionRead,
    responses=error_responses(401, 403, 404),
    summary="Get an inspection",
)
def get_inspection(
    session: DbSession,
    contexts: Contexts,
    access: InspectionAccess = authorize_inspection("get_inspection"),
) -> InspectionRead:
    return _read_models(session, contexts, [access.inspection])[0]


@router.put(
    "/{inspection_id}/participants/{organisation_id}",
    response_model=InspectionRead,
    responses=error_responses(401, 403, 404, 422),
    summary="Add an agency or inspectorate to the inspection",
)
def add_participant(
    organisation_id: uuid.UUID,
    session: DbSession,
    contexts: Contexts,
    context: InspectionContext = inspection_context("add_participant"),
) -> InspectionRead:
    service.add_participant(session, context, organisation_id)
    return _read_models(session, contexts, [context.inspection])[0]


@router.delete(
    "/{inspection_id}/participants/{organisation_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 409),
    summary="Remove an organisation from the inspection",
)
def remove_participant(
    organisation_id: uuid.UUID,
    session: DbSession,
    context: InspectionContext = inspection_context("remove_participant"),
) -> Response:
    service.remove_participant(session, context, organisation_id)
    return Response(status_code=204)


@router.put(
    "/{inspection_id}/lead",
    response_model=InspectionRead,
    responses=error_responses(401, 403, 404, 422),
    summary="Name the lead inspector",
)
def set_lead_inspector(
    body: LeadUpdate,
    session: DbSession,
    contexts: Contexts,
    context: InspectionContext = inspection_context("set_lead_inspector"),
) -> InspectionRead:
    service.set_lead(session, context, body.client_id)
    return _read_models(session, contexts, [context.inspection])[0]


@router.put(
    "/{inspection_id}/status",
    response_model=InspectionRead,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Move the inspection to its next status",
)
def update_inspection_status(
    body: StatusUpdate,
    session: DbSession,
    contexts: Contexts,
    context: InspectionContext = inspection_context("update_inspection_status"),
) -> InspectionRead:
    service.change_status(session, context, body.status)
    return _read_models(session, contexts, [context.inspection])[0]


def _team_member_read(member: team.TeamMember) -> TeamMemberRead:
    return TeamMemberRead.model_validate(member, from_attributes=True)


@router.get(
    "/{inspection_id}/team",
    response_model=list[TeamMemberRead],
    responses=error_responses(401, 403, 404),
    summary="List the inspectors on the inspection's team",
)
def list_team(
    session: DbSession, context: InspectionContext = inspection_context("list_team")
) -> list[TeamMemberRead]:
    return [_team_member_read(member) for member in team.read_team(session, context)]


@router.get(
    "/{inspection_id}/team/{principal_id}",
    response_model=TeamMemberRead,
    responses=error_responses(401, 403, 404),
    summary="Get one member of the inspection's team",
)
def get_team_member(
    principal_id: uuid.UUID,
    session: DbSession,
    context: InspectionContext = inspection_context("get_team_member"),
) -> TeamMemberRead:
    return _team_member_read(team.read_team_member(session, context, principal_id))


@router.put(
    "/{inspection_id}/team/{principal_id}",
    response_model=TeamMemberRead,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Name an inspector to the inspection's team (lead inspector or operator)",
)
def add_team_member(
    principal_id: uuid.UUID,
    session: DbSession,
    context: InspectionContext = inspection_context("add_team_member"),
) -> TeamMemberRead:
    return _team_member_read(team.add_team_member(session, context, principal_id))


@router.delete(
    "/{inspection_id}/team/{principal_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 409),
    summary="Take an inspector off the inspection's team (lead inspector or operator)",
)
def remove_team_member(
    principal_id: uuid.UUID,
    session: DbSession,
    context: InspectionContext = inspection_context("remove_team_member"),
) -> Response:
    team.remove_team_member(session, context, principal_id)
    return Response(status_code=204)
