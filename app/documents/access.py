"""Who may still write a document there: asked afresh at every step of an upload.

An upload spans many requests (a plan, parts, a completion), and a streamed one takes as long
as its bytes take to arrive; meanwhile the caller's organisation may leave the inspection, the
request may be withdrawn or the inspection closed. Every step that writes asks again, naming
its operation, so the closed-inspection rule is the policy's (``app.inspections.closed``).
"""

from __future__ import annotations

import uuid

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.database import utcnow
from app.core.errors import Conflict, NotFound
from app.document_requests.models import DocumentRequest
from app.document_requests.repository import is_addressed_to
from app.documents.models import Upload, UploadState
from app.inspections.closed import check_open
from app.inspections.models import Inspection, InspectionParticipant


def writable_request(
    session: Session,
    principal: Principal,
    request_id: uuid.UUID,
    operation: str,
    not_found: str = "No such request.",
) -> DocumentRequest:
    """The request, if the caller may send a document to it now (``operation``: the step).

    404 when the request is not addressed to the caller's organisation (one of its
    addressees: any of several answers a request of the partnership) or that organisation
    no longer takes part in the inspection; 409 when the inspection is closed or the request
    withdrawn. Rows are read from the database, not the session's memory (a step may run
    after a commit). On PostgreSQL the inspection and participation rows are share-locked
    until the transaction ends, so a removal or closure cannot slip in before the write.
    """
    request = session.get(DocumentRequest, request_id, populate_existing=True)
    if request is None or not is_addressed_to(session, request.id, principal.organisation_id):
        raise NotFound(not_found)
    inspection = _inspection_taken_part_in(session, request.inspection_id, principal)
    if inspection is None:
        raise NotFound(not_found)
    check_open(operation, inspection)
    if request.withdrawn:
        raise Conflict("This request no longer applies.", code="request_withdrawn")
    return request


def _inspection_taken_part_in(
    session: Session, inspection_id: uuid.UUID, principal: Principal
) -> Inspection | None:
    taking_part = and_(
        InspectionParticipant.inspection_id == Inspection.id,
        InspectionParticipant.organisation_id == principal.organisation_id,
    )
    return session.execute(
        select(Inspection)
        .join(InspectionParticipant, taking_part)
        .where(Inspection.id == inspection_id)
        .with_for_update(read=True)  # FOR SHARE on both rows; SQLite's writes are serial anyway
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def writable_upload(
    session: Session, principal: Principal, upload_id: uuid.UUID, operation: str
) -> Upload:
    """The caller's own open upload, on a request it may still write to (404 / 409)."""
    upload = session.get(Upload, upload_id, populate_existing=True)
    if upload is None or upload.client_id != principal.client_id:
        raise NotFound("No such upload.")
    writable_request(session, principal, upload.request_id, operation, "No such upload.")
    if upload.state is not UploadState.OPEN or upload.expires_at < utcnow():
        raise Conflict(f"The upload is {upload.state.value} or expired.", code="upload_closed")
    return upload


def lock_answers(session: Session, request: DocumentRequest) -> None:
    """Answers to one request are recorded one at a time: on PostgreSQL the request's row is
    locked until the transaction ends, so a new version or nil return is decided on what
    the last one left (which it supersedes, whether a document of its kind exists)."""
    session.execute(
        select(DocumentRequest.id).where(DocumentRequest.id == request.id).with_for_update()
    )
