from __future__ import annotations

from fastapi import APIRouter

from app.audit import chain as audit
from app.core.deps import DbSession, State
from app.core.errors import NotFound, error_responses
from app.document_requests.service import rederive_requests
from app.inspections.access import InspectionAccess, authorize_inspection
from app.selections import service
from app.selections.schemas import SelectionRead, SelectionUpdate

router = APIRouter(prefix="/v1/inspections/{inspection_id}/selections", tags=["selections"])


@router.put(
    "/{selection_key}",
    response_model=SelectionRead,
    responses=error_responses(401, 403, 404, 422),
    summary="Choose the children of a selection (shortlist, tracked); lead inspector only",
)
def put_selection(
    selection_key: str,
    body: SelectionUpdate,
    session: DbSession,
    state: State,
    access: InspectionAccess = authorize_inspection("put_selection"),
) -> SelectionRead:
    inspection = access.inspection
    spec = service.selection_spec(state.themes.get(inspection.theme), selection_key)
    service.check_selection(session, inspection, spec, body.child_ids)
    selection, previous = service.save_selection(
        session, inspection, selection_key, body.child_ids, access.principal.client_id
    )
    rederive_requests(session, inspection, state)  # case files are asked for tracked children
    audit.record(
        session,
        access.principal,
        "selection.changed",
        "selection",
        selection_key,
        inspection_id=inspection.id,
        detail={
            "version": selection.version,
            "added": sorted(set(body.child_ids) - set(previous)),
            "removed": sorted(set(previous) - set(body.child_ids)),
        },
    )
    return SelectionRead.model_validate(selection)


@router.get(
    "/{selection_key}",
    response_model=SelectionRead,
    responses=error_responses(401, 403, 404),
    summary="The children of a selection",
)
def get_selection(
    selection_key: str,
    session: DbSession,
    state: State,
    access: InspectionAccess = authorize_inspection("get_selection"),
) -> SelectionRead:
    service.selection_spec(state.themes.get(access.inspection.theme), selection_key)
    selection = service.get_selection(session, access.inspection.id, selection_key)
    if selection is None:
        raise NotFound(f"No '{selection_key}' selection has been made yet.")
    return SelectionRead.model_validate(selection)
