from __future__ import annotations

from fastapi import APIRouter

from app.core.deps import DbSession
from app.core.errors import error_responses
from app.inspections.access import inspection_context
from app.inspections.context import InspectionContext
from app.progress import service
from app.progress.schemas import InspectionProgress

router = APIRouter(prefix="/v1/inspections/{inspection_id}", tags=["progress"])


@router.get(
    "/progress",
    response_model=InspectionProgress,
    responses=error_responses(401, 403, 404),
    summary="Progress: per tracked child and agency, what is received, nil-returned or owed",
    description="Per tracked child, per agency, per document kind and request: received "
    "(time, late), nil return (reason) or owed (due time); the joint and single-agency "
    "evaluations (present, version, late), engagement and how many tracking records; then "
    "the requests about no tracked child (information items, CQC's, the lead's) per agency. "
    "Inspectors only; one page.",
)
def get_progress(
    session: DbSession,
    context: InspectionContext = inspection_context("get_progress"),
) -> InspectionProgress:
    return service.inspection_progress(session, context)
