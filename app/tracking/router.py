from __future__ import annotations

from fastapi import APIRouter, Response

from app.audit import chain as audit
from app.auth.models import ApiClient
from app.core.deps import DbSession, State
from app.core.errors import error_responses
from app.core.preconditions import IfMatch, etag, version_from_if_match
from app.evaluations.service import require_tracked_child
from app.inspections.access import InspectionAccess, authorize_inspection
from app.organisations.models import Organisation
from app.tracking import service
from app.tracking.models import TrackingRecord
from app.tracking.schemas import Author, QuestionSummary, TrackingRead, TrackingWrite

# Agencies hold no tracking scope and the policy conceals these routes: they answer 404.
router = APIRouter(
    prefix="/v1/inspections/{inspection_id}/children/{child_id}/tracking", tags=["tracking"]
)


def _read(record: TrackingRecord, author: Author) -> TrackingRead:
    return TrackingRead(
        child_id=record.child_id,
        author=author,
        version=record.version,
        header=record.header,
        summaries={k: QuestionSummary.model_validate(v) for k, v in record.summaries.items()},
        created_at=record.created_at,
    )


def _author(client: ApiClient, organisation: Organisation) -> Author:
    return Author(
        client_id=client.id,
        client_name=client.name,
        organisation_id=organisation.id,
        organisation_name=organisation.name,
    )


@router.put(
    "",
    response_model=TrackingRead,
    responses=error_responses(401, 403, 404, 409, 412, 422),
    summary="Write the next version of the calling inspector's own Annex B tracking record",
)
def put_tracking(
    child_id: str,
    body: TrackingWrite,
    response: Response,
    session: DbSession,
    state: State,
    if_match: IfMatch = None,
    access: InspectionAccess = authorize_inspection("put_tracking"),
) -> TrackingRead:
    inspection, principal = access.inspection, access.principal
    require_tracked_child(session, inspection.id, child_id)
    service.check_body(state.themes.get(inspection.theme), body)
    record = service.save_record(
        session, inspection.id, child_id, principal, body, version_from_if_match(if_match)
    )
    audit.record(
        session,
        principal,
        "tracking.written",
        "tracking_record",
        record.id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={"version": record.version},
    )
    response.headers["ETag"] = etag(record.version)
    author = Author(
        client_id=principal.client_id,
        client_name=principal.client_name,
        organisation_id=principal.organisation_id,
        organisation_name=principal.organisation_name,
    )
    return _read(record, author)


@router.get(
    "",
    response_model=list[TrackingRead],
    responses=error_responses(401, 403, 404),
    summary="Every inspector's current tracking record of a tracked child, with its author",
)
def list_tracking(
    child_id: str,
    session: DbSession,
    access: InspectionAccess = authorize_inspection("list_tracking"),
) -> list[TrackingRead]:
    inspection = access.inspection
    require_tracked_child(session, inspection.id, child_id)
    rows = service.current_records(session, inspection.id, child_id)
    audit.record(
        session,
        access.principal,
        "tracking.listed",
        "child",
        child_id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={"records": [str(record.id) for record, _, _ in rows]},
    )
    return [_read(record, _author(client, org)) for record, client, org in rows]
