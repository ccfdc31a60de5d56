from __future__ import annotations

from fastapi import APIRouter, Response

from app.auth.models import ApiClient
from app.core.deps import DbSession
from app.core.errors import error_responses
from app.core.preconditions import IfMatch, etag, version_from_if_match
from app.inspections.access import inspection_context
from app.inspections.context import InspectionContext
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
    if_match: IfMatch = None,
    context: InspectionContext = inspection_context("put_tracking"),
) -> TrackingRead:
    principal = context.actor
    record = service.write_record(session, context, child_id, body, version_from_if_match(if_match))
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
    context: InspectionContext = inspection_context("list_tracking"),
) -> list[TrackingRead]:
    rows = service.read_records(session, context, child_id)
    return [_read(record, _author(client, org)) for record, client, org in rows]
