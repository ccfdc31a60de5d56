from __future__ import annotations

from fastapi import APIRouter

from app.core.deps import DbSession
from app.core.errors import error_responses
from app.documents.context_notes import context_notes
from app.inspections.access import inspection_context
from app.inspections.context import InspectionContext
from app.selections import service
from app.selections.schemas import ContextNoteRead, SelectionRead, SelectionUpdate

router = APIRouter(prefix="/v1/inspections/{inspection_id}/selections", tags=["selections"])


@router.put(
    "/{selection_key}",
    response_model=SelectionRead,
    responses=error_responses(401, 403, 404, 422),
    summary="Choose the children of a selection (shortlist, tracked); lead inspector only",
    description=(
        "Each child is checked against the theme's selection rules. Rules that protect the "
        "data (children distinct, on the inspection's lists) refuse the selection with 422 "
        "`invalid_selection`, naming each child in `errors`. Rules the theme leaves to the "
        "lead's judgement (counts, the age band, the scope, 'from the shortlist') refuse it "
        "with 422 `needs_override` until `override_reason` is given; `warnings` names each "
        "such rule with its `code`, the `child_ids` concerned and the guidance `paragraphs`. "
        "With a reason the selection is stored with it and the rules overridden, and audited."
    ),
)
def put_selection(
    selection_key: str,
    body: SelectionUpdate,
    session: DbSession,
    context: InspectionContext = inspection_context("put_selection"),
) -> SelectionRead:
    selection = service.choose_children(
        session, context, selection_key, body.child_ids, body.override_reason
    )
    return SelectionRead.model_validate(selection)


@router.get(
    "/{selection_key}",
    response_model=SelectionRead,
    responses=error_responses(401, 403, 404),
    summary="The children of a selection",
    description=(
        "For inspectors, with the council's notes on the area's context (`context_notes`), "
        "which the lead takes into account when selecting."
    ),
)
def get_selection(
    selection_key: str,
    session: DbSession,
    context: InspectionContext = inspection_context("get_selection"),
) -> SelectionRead:
    selection = SelectionRead.model_validate(
        service.read_selection(session, context, selection_key)
    )
    notes = context_notes(session, context.actor, context.inspection.id)
    selection.context_notes = [ContextNoteRead.model_validate(note) for note in notes]
    return selection
