from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.deps import authorize
from app.auth.principal import Principal
from app.core.deps import DbSession, State
from app.core.errors import error_responses
from app.core.pagination import Page, PageParams, page_params
from app.document_requests.service import rederive_requests
from app.inspections import service
from app.inspections.access import InspectionAccess, authorize_inspection
from app.inspections.models import Inspection
from app.inspections.schemas import (
    InspectionCreate,
    InspectionRead,
    LeadUpdate,
    ParticipantRead,
    StatusUpdate,
)

router = APIRouter(prefix="/v1/inspections", tags=["inspections"])


def _read_models(session: Session, inspections: Sequence[Inspection]) -> list[InspectionRead]:
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
    state: State,
    principal: Principal = authorize("create_inspection"),
) -> InspectionRead:
    inspection = service.create_inspection(
        session,
        service.NewInspection(
            body.area_name, body.local_authority_id, body.theme, body.notification_at
        ),
        state.themes.keys(),
    )
    rederive_requests(session, inspection, state)
    audit.record(
        session,
        principal,
        "inspection.created",
        "inspection",
        inspection.id,
        inspection_id=inspection.id,
        detail={"theme": inspection.theme, "area_name": inspection.area_name},
    )
    return _read_models(session, [inspection])[0]


@router.get(
    "",
    response_model=Page[InspectionRead],
    responses=error_responses(401, 403),
    summary="List the inspections the caller takes part in",
)
def list_inspections(
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    principal: Principal = authorize("list_inspections"),
) -> Page[InspectionRead]:
    rows, total = service.list_visible(session, principal, limit=paging.limit, offset=paging.offset)
    return Page.build(_read_models(session, rows), paging, total)


@router.get(
    "/{inspection_id}",
    response_model=InspectionRead,
    responses=error_responses(401, 403, 404),
    summary="Get an inspection",
)
def get_inspection(
    session: DbSession, access: InspectionAccess = authorize_inspection("get_inspection")
) -> InspectionRead:
    return _read_models(session, [access.inspection])[0]


@router.put(
    "/{inspection_id}/participants/{organisation_id}",
    response_model=InspectionRead,
    responses=error_responses(401, 403, 404, 422),
    summary="Add an agency or inspectorate to the inspection",
)
def add_participant(
    organisation_id: uuid.UUID,
    session: DbSession,
    state: State,
    response: Response,
    access: InspectionAccess = authorize_inspection("add_participant"),
) -> InspectionRead:
    added = service.add_participant(session, access.inspection, organisation_id)
    if added:
        rederive_requests(session, access.inspection, state)
        audit.record(
            session,
            access.principal,
            "inspection.participant_added",
            "organisation",
            organisation_id,
            inspection_id=access.inspection.id,
        )
    response.status_code = 200
    return _read_models(session, [access.inspection])[0]


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
    state: State,
    access: InspectionAccess = authorize_inspection("remove_participant"),
) -> Response:
    service.remove_participant(session, access.inspection, organisation_id)
    rederive_requests(session, access.inspection, state)
    audit.record(
        session,
        access.principal,
        "inspection.participant_removed",
        "organisation",
        organisation_id,
        inspection_id=access.inspection.id,
    )
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
    access: InspectionAccess = authorize_inspection("set_lead_inspector"),
) -> InspectionRead:
    service.set_lead(session, access.inspection, body.client_id)
    audit.record(
        session,
        access.principal,
        "inspection.lead_set",
        "client",
        body.client_id,
        inspection_id=access.inspection.id,
    )
    return _read_models(session, [access.inspection])[0]


@router.put(
    "/{inspection_id}/status",
    response_model=InspectionRead,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Move the inspection to its next status",
)
def update_inspection_status(
    body: StatusUpdate,
    session: DbSession,
    access: InspectionAccess = authorize_inspection("update_inspection_status"),
) -> InspectionRead:
    previous = access.inspection.status
    service.change_status(session, access.inspection, body.status)
    audit.record(
        session,
        access.principal,
        "inspection.status_changed",
        "inspection",
        access.inspection.id,
        inspection_id=access.inspection.id,
        detail={"from": previous.value, "to": body.status.value},
    )
    return _read_models(session, [access.inspection])[0]
