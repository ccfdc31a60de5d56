"""Documents and uploads: the rules around the object store; no HTTP here.

Every storage call here blocks; callers run these functions in worker threads.

Every write re-checks, at every step, that the caller may still write there
(``writable_request``): an upload spans many requests, and between them the caller's
organisation may leave the inspection, the request may be withdrawn or the inspection closed.
"""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.principal import Principal
from app.core.database import utcnow
from app.core.errors import (
    AppError,
    Conflict,
    InvalidContent,
    NotFound,
    PayloadTooLarge,
    ProblemItem,
    UnsupportedMediaType,
)
from app.document_requests.models import DocumentRequest
from app.documents.errors import problem_for, upload_closed
from app.documents.models import Document, Upload, UploadState
from app.documents.sniff import (
    SNIFF_BYTES,
    Finding,
    active_content,
    active_extension,
    extension_mismatch,
    filename_problem,
    sniff,
)
from app.inspections.models import Inspection, InspectionParticipant, InspectionStatus
from app.inspections.service import may_see_agency_object
from app.storage import (
    InvalidParts,
    ObjectTooLarge,
    Storage,
    StorageError,
    StoredObject,
    UploadNotFound,
)
from app.storage.base import Chunk, normalise_etag

logger = logging.getLogger("jtai.documents")

MIN_PART_BYTES = 8 * 1024 * 1024
MAX_PARTS = 10_000
# How long a part URL (presigned, or the API's own part route) takes bytes after the plan.
PRESIGN_TTL = timedelta(minutes=15)
DOWNLOAD_TTL = timedelta(minutes=5)
# A completion claimed but never finished (its process died) is swept this long after the
# upload's own expiry: long enough that no live completion is still reading the object back.
COMPLETION_GRACE = timedelta(hours=1)


def new_object_key(inspection_id: uuid.UUID) -> str:
    # Generated, never derived from a file name: names are shown, not trusted.
    return f"inspections/{inspection_id}/{uuid.uuid4().hex}"


# -- who may still write -------------------------------------------------------------------


def writable_request(
    session: Session,
    principal: Principal,
    request_id: uuid.UUID,
    not_found: str = "No such request.",
) -> DocumentRequest:
    """The request, if the caller may send a document to it now; asked afresh at each step.

    404 when the request is not addressed to the caller's organisation or that organisation
    no longer takes part in the inspection; 409 when the inspection is closed or the request
    withdrawn. Rows are read from the database, not the session's memory (a step may run
    after a commit). On PostgreSQL the inspection and participation rows are share-locked
    until the transaction ends, so a removal or closure cannot slip in before the write.
    """
    request = session.get(DocumentRequest, request_id, populate_existing=True)
    if request is None or request.addressee_organisation_id != principal.organisation_id:
        raise NotFound(not_found)
    inspection = _inspection_taken_part_in(session, request.inspection_id, principal)
    if inspection is None:
        raise NotFound(not_found)
    if inspection.status is InspectionStatus.CLOSED:
        raise Conflict(
            "The inspection is closed; nothing more can be sent.", code="inspection_closed"
        )
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


def writable_upload(session: Session, principal: Principal, upload_id: uuid.UUID) -> Upload:
    """The caller's own open upload, on a request it may still write to (404 / 409)."""
    upload = session.get(Upload, upload_id, populate_existing=True)
    if upload is None or upload.client_id != principal.client_id:
        raise NotFound("No such upload.")
    writable_request(session, principal, upload.request_id, not_found="No such upload.")
    if upload.state is not UploadState.OPEN or upload.expires_at < utcnow():
        raise Conflict(f"The upload is {upload.state.value} or expired.", code="upload_closed")
    return upload


# -- documents -----------------------------------------------------------------------------


def refuse_type(filename: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        f"'{filename[:100]}' is not a document type the exchange accepts "
        "(PDF, Office documents, images, text, email).",
        code="unsupported_document_type",
    )


def check_filename(filename: str, field: str) -> None:
    """422 for a name that cannot be shown or kept as it is; 415 for one that runs code."""
    if (problem := filename_problem(filename)) is not None:
        raise InvalidContent(
            problem,
            code="invalid_filename",
            errors=[ProblemItem(field=field, code="invalid_filename", message=problem)],
        )
    if (finding := active_extension(filename)) is not None:
        raise _refuse_active(finding, filename, field)


def _refuse_active(finding: Finding, filename: str, field: str) -> UnsupportedMediaType:
    message = f"'{filename[:100]}' is refused. {finding.message}"
    item = ProblemItem(field=field, code=finding.code, message=message, value=finding.value)
    return UnsupportedMediaType(message, code=finding.code, errors=[item])


def sniff_or_refuse(head: bytes, filename: str, field: str = "file.filename") -> str:
    """The media type of an allowed document, after the name and content rules.

    ``field`` names where the file name came from, for the problem's ``errors``.
    """
    check_filename(filename, field)
    media_type = sniff(head[:SNIFF_BYTES], filename)
    if media_type is None:
        raise refuse_type(filename)
    if (finding := extension_mismatch(media_type, filename)) is not None:
        raise _refuse_active(finding, filename, field)
    if _is_text_type(media_type) and (finding := active_content(head)) is not None:
        raise _refuse_active(finding, filename, field)
    return media_type


def _is_text_type(media_type: str) -> bool:
    return media_type.startswith("text/") or media_type == "message/rfc822"


def _previous(
    session: Session, request: DocumentRequest, organisation_id: uuid.UUID
) -> Document | None:
    return session.execute(
        select(Document)
        .where(Document.request_id == request.id, Document.organisation_id == organisation_id)
        .order_by(Document.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def record_document(
    session: Session,
    request: DocumentRequest,
    principal: Principal,
    stored: StoredObject,
    filename: str,
    media_type: str,
) -> Document:
    now = utcnow()
    previous = _previous(session, request, principal.organisation_id)
    document = Document(
        inspection_id=request.inspection_id,
        request_id=request.id,
        organisation_id=principal.organisation_id,
        client_id=principal.client_id,
        filename=filename,
        size=stored.size,
        sha256=stored.sha256,
        media_type=media_type,
        object_key=stored.key,
        created_at=now,
        late=request.due_at is not None and now > request.due_at,
        supersedes_id=previous.id if previous else None,
    )
    session.add(document)
    session.flush()
    return document


def publish_streamed(
    session: Session,
    principal: Principal,
    request_id: uuid.UUID,
    stored: StoredObject,
    filename: str,
    media_type: str,
) -> Document:
    """Record a streamed upload's stored bytes, if the caller may still write there."""
    request = writable_request(session, principal, request_id)
    return record_document(session, request, principal, stored, filename, media_type)


def get_document(session: Session, principal: Principal, document_id: uuid.UUID) -> Document:
    """Inspectors of the inspection read every document; an agency only its own."""
    document = session.get(Document, document_id)
    if document is None or not may_see_agency_object(
        session, principal, document.inspection_id, document.organisation_id
    ):
        raise NotFound("No such document.")
    return document


def documents_for(
    session: Session, request_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[Document]]:
    ids = list(request_ids)
    grouped: dict[uuid.UUID, list[Document]] = {request_id: [] for request_id in ids}
    if not ids:
        return grouped
    rows = session.execute(
        select(Document).where(Document.request_id.in_(ids)).order_by(Document.created_at)
    ).scalars()
    for document in rows:
        grouped[document.request_id].append(document)
    return grouped


# -- presigned (multipart) uploads ---------------------------------------------------------


@dataclass(frozen=True)
class NewUpload:
    filename: str
    size: int
    sha256: str


def part_size_for(size: int) -> int:
    """Parts of at least 8 MiB, and never more than S3's 10,000 of them."""
    return max(MIN_PART_BYTES, math.ceil(size / MAX_PARTS))


def create_upload(
    session: Session,
    storage: Storage,
    request: DocumentRequest,
    principal: Principal,
    wanted: NewUpload,
    ttl_seconds: int,
) -> Upload:
    check_filename(wanted.filename, "body.filename")  # before the store starts anything
    key, now = new_object_key(request.inspection_id), utcnow()
    try:
        store_upload_id = storage.start_multipart(key, "application/octet-stream")
    except StorageError as exc:
        raise problem_for(exc) from None
    upload = Upload(
        request_id=request.id,
        inspection_id=request.inspection_id,
        organisation_id=principal.organisation_id,
        client_id=principal.client_id,
        filename=wanted.filename,
        size=wanted.size,
        sha256=wanted.sha256.lower(),
        part_size=part_size_for(wanted.size),
        object_key=key,
        store_upload_id=store_upload_id,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    session.add(upload)
    session.flush()
    return upload


def part_count(upload: Upload) -> int:
    return max(1, math.ceil(upload.size / upload.part_size))


def planned_part_size(upload: Upload, part_number: int) -> int:
    """The exact size of a part: ``part_size``, the last one what is left."""
    if not 1 <= part_number <= part_count(upload):
        raise InvalidContent("No such part of this upload.", code="invalid_part_number")
    return min(upload.part_size, upload.size - (part_number - 1) * upload.part_size)


def part_urls_expire_at(upload: Upload) -> datetime:
    return upload.created_at + PRESIGN_TTL


def part_url(storage: Storage, upload: Upload, part_number: int) -> str:
    if storage.supports_presign:
        return storage.presign_part(
            upload.object_key,
            upload.store_upload_id,
            part_number,
            PRESIGN_TTL,
            size=planned_part_size(upload, part_number),
        )
    # The local store has no URLs of its own: parts come through the API instead.
    return f"/v1/uploads/{upload.id}/parts/{part_number}"


@dataclass(frozen=True)
class PlannedPart:
    upload: Upload
    number: int
    size: int


def writable_part(
    session: Session,
    principal: Principal,
    upload_id: uuid.UUID,
    part_number: int,
    declared_length: int | None,
) -> PlannedPart:
    """A part the caller may send through the API now, held to the plan as a presigned URL
    is: the same expiry, and exactly the planned size (a declared length is checked before
    a byte is read)."""
    upload = writable_upload(session, principal, upload_id)
    size = planned_part_size(upload, part_number)
    if utcnow() > part_urls_expire_at(upload):
        raise Conflict(
            "The part URLs of this upload have expired; start a new upload.",
            code="part_url_expired",
        )
    if declared_length is not None and declared_length != size:
        raise _wrong_part_size(part_number, declared_length, size)
    return PlannedPart(upload, part_number, size)


def _wrong_part_size(part_number: int, got: int, planned: int) -> AppError:
    if got > planned:
        message = f"part {part_number} is larger than the {planned} bytes the plan says"
        return PayloadTooLarge(message, code="part_too_large")
    message = f"part {part_number} has {got} bytes; the upload's plan says {planned}"
    return InvalidContent(message, code="part_size_mismatch")


def store_part(storage: Storage, part: PlannedPart, chunks: Iterable[Chunk]) -> str:
    """Store a part sent through the API; a body of any other than the planned size is
    refused as it arrives, and nothing of it is kept. Returns the ETag."""
    try:
        return storage.put_part(
            part.upload.object_key,
            part.upload.store_upload_id,
            part.number,
            _exactly(chunks, part),
            max_bytes=part.size,
        )
    except StorageError as exc:
        if isinstance(exc, ObjectTooLarge):
            raise _wrong_part_size(part.number, part.size + 1, part.size) from None
        raise problem_for(exc) from None


def _exactly(chunks: Iterable[Chunk], part: PlannedPart) -> Iterator[Chunk]:
    # The store's meter stops a body past the planned size; a short one is caught here, at
    # its end, before the store keeps it.
    received = 0
    for chunk in chunks:
        received += len(chunk)
        yield chunk
    if received != part.size:
        raise _wrong_part_size(part.number, received, part.size)


def complete_upload(
    session: Session,
    storage: Storage,
    principal: Principal,
    upload_id: uuid.UUID,
    parts: list[tuple[int, str]],
) -> Document:
    """Check the parts against the plan, assemble them, verify size and SHA-256 by reading
    the object back, then publish, re-checking the caller may still write there.

    One completion at a time: the upload is claimed (open -> completing) in a transaction
    of its own before anything else, so a racing completion is told 409 and never touches
    the store; a list of parts that does not fit the plan opens it again. The store
    work runs outside any transaction (no lock held while gigabytes are read back). Any
    failure after the claim discards the parts and any assembled object; a process that dies
    half-way leaves the upload 'completing', which the sweeper discards once expired.
    """
    upload = writable_upload(session, principal, upload_id)
    # Claimed before the parts are looked at: a racer that lost would otherwise find the
    # winner's parts already assembled and gone, and be told they were never sent (422).
    _claim(session, upload)
    try:
        _check_parts_against_plan(session, storage, upload, parts)
    except BaseException:
        if upload.state is UploadState.COMPLETING:  # not discarded: open for a corrected list
            _set_state(session, upload, UploadState.OPEN)
        raise
    stored, media_type = _assemble(session, storage, upload, parts)
    try:
        request = writable_request(session, principal, upload.request_id, "No such upload.")
        document = record_document(session, request, principal, stored, upload.filename, media_type)
        upload.state, upload.document_id = UploadState.COMPLETED, document.id
        session.flush()
    except BaseException:
        session.rollback()
        _discard(session, storage, upload)
        raise
    return document


def _check_parts_against_plan(
    session: Session, storage: Storage, upload: Upload, parts: list[tuple[int, str]]
) -> None:
    """Every planned part, listed once in order, stored with the ETag given and its planned
    size. A part of another size ends the upload (its bytes broke the plan the URL was
    signed for); a wrong or missing part leaves it open for a corrected list."""
    count = part_count(upload)
    if [number for number, _ in parts] != list(range(1, count + 1)):
        message = f"list parts 1 to {count}, each once and in order"
        raise InvalidContent(
            f"The upload has {count} part(s): {message}.",
            code="invalid_parts",
            errors=[ProblemItem(field="body.parts", code="parts_not_as_planned", message=message)],
        )
    try:
        stored = {
            (part.number, part.etag): part.size
            for part in storage.list_parts(upload.object_key, upload.store_upload_id)
        }
    except StorageError as exc:
        raise problem_for(exc) from None
    missing, wrong_size = [], []
    for index, (number, etag) in enumerate(parts):
        held, field = stored.get((number, normalise_etag(etag))), f"body.parts[{index}]"
        planned = planned_part_size(upload, number)
        if held is None:
            message = f"part {number} is not stored with the ETag given"
            missing.append(ProblemItem(field=field, code="part_not_stored", message=message))
        elif held != planned:
            message = f"part {number} has {held} bytes; the upload's plan says {planned}"
            wrong_size.append(ProblemItem(field=field, code="part_size_mismatch", message=message))
    if wrong_size:
        _discard(session, storage, upload)
        raise InvalidContent(
            "Parts differ in size from the upload's plan; the upload is discarded.",
            code="part_size_mismatch",
            errors=wrong_size,
        )
    if missing:
        raise InvalidContent(
            "Some parts listed are not stored.", code="invalid_parts", errors=missing
        )


def _leave_open(session: Session, upload: Upload, state: UploadState) -> bool:
    """Move an open upload to ``state``; False when it is no longer open. On PostgreSQL the
    UPDATE waits for a racing one to commit and then finds the row no longer open."""
    moved = cast(
        CursorResult[Any],
        session.execute(
            update(Upload)
            .where(Upload.id == upload.id, Upload.state == UploadState.OPEN)
            .values(state=state)
            .execution_options(synchronize_session=False)
        ),
    )
    if moved.rowcount != 1:
        return False
    set_committed_value(upload, "state", state)
    return True


def _claim(session: Session, upload: Upload) -> None:
    if not _leave_open(session, upload, UploadState.COMPLETING):
        raise Conflict("The upload is being completed or is closed.", code="upload_closed")
    session.commit()


def _assemble(
    session: Session, storage: Storage, upload: Upload, parts: list[tuple[int, str]]
) -> tuple[StoredObject, str]:
    try:
        storage.complete_multipart(upload.object_key, upload.store_upload_id, parts)
    except StorageError as exc:
        if isinstance(exc, InvalidParts | UploadNotFound):
            _discard(session, storage, upload)
        else:  # the store is down: nothing was assembled, the client may try again
            _set_state(session, upload, UploadState.OPEN)
        raise problem_for(exc) from None
    try:
        size, digest, head = _read_back(storage, upload.object_key)
        if size != upload.size or digest != upload.sha256:
            raise _mismatch(
                f"The assembled file has {size} bytes and SHA-256 {digest}; "
                f"{upload.size} bytes and {upload.sha256} were declared."
            )
        media_type = sniff_or_refuse(head, upload.filename, "filename")
    except BaseException as exc:
        _discard(session, storage, upload)
        if isinstance(exc, StorageError):
            raise problem_for(exc) from None
        raise
    return StoredObject(key=upload.object_key, size=size, sha256=digest), media_type


def _discard(session: Session, storage: Storage, upload: Upload) -> None:
    """End an upload that will not become a document: its parts and any assembled object go.

    If the store cannot be reached the row keeps its state, and the sweeper finishes the job
    once the upload has expired.
    """
    try:
        storage.abort_multipart(upload.object_key, upload.store_upload_id)
        storage.delete(upload.object_key)
    except StorageError as exc:
        logger.warning(
            "upload left for the sweeper", extra={"upload_id": str(upload.id), "error": str(exc)}
        )
        return
    _set_state(session, upload, UploadState.ABORTED)


def _set_state(session: Session, upload: Upload, state: UploadState) -> None:
    # Committed at once: the request itself is about to fail, and its rollback must not
    # take this with it.
    session.execute(
        update(Upload)
        .where(Upload.id == upload.id)
        .values(state=state)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(upload, "state", state)
    session.commit()


def abort_upload(
    session: Session, storage: Storage, principal: Principal, upload_id: uuid.UUID
) -> None:
    """The caller gives up an open upload: its parts are discarded."""
    upload = writable_upload(session, principal, upload_id)
    if not _leave_open(session, upload, UploadState.ABORTED):
        raise upload_closed()
    try:
        storage.abort_multipart(upload.object_key, upload.store_upload_id)
    except StorageError as exc:
        # Ours is aborted; the sweeper aborts store uploads no open upload of ours holds.
        logger.warning(
            "store upload left for the sweeper",
            extra={"upload_id": str(upload.id), "error": str(exc)},
        )


def _mismatch(message: str) -> InvalidContent:
    return InvalidContent(
        message,
        code="upload_verification_failed",
        errors=[ProblemItem(code="mismatch", message=message)],
    )


def _read_back(storage: Storage, key: str) -> tuple[int, str, bytes]:
    """Size, SHA-256 and first bytes of a stored object, in one pass over it."""
    digest, size, head = hashlib.sha256(), 0, bytearray()
    for chunk in storage.open_stream(key):
        digest.update(chunk)
        size += len(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
    return size, digest.hexdigest(), bytes(head)


@dataclass(frozen=True)
class SweepResult:
    expired_uploads: int
    orphaned_store_uploads: int


def sweep_uploads(session: Session, storage: Storage, ttl_seconds: int) -> SweepResult:
    """Abort uploads left open past their time, ours and any the store still holds.

    A completion whose process died ('completing' well past expiry) is discarded too,
    with any object it had assembled: no document refers to it.
    """
    now = utcnow()
    expired = (
        session.execute(
            select(Upload).where(
                or_(
                    and_(Upload.state == UploadState.OPEN, Upload.expires_at < now),
                    and_(
                        Upload.state == UploadState.COMPLETING,
                        Upload.expires_at < now - COMPLETION_GRACE,
                    ),
                )
            )
        )
        .scalars()
        .all()
    )
    for upload in expired:
        storage.abort_multipart(upload.object_key, upload.store_upload_id)
        if upload.state is UploadState.COMPLETING:
            storage.delete(upload.object_key)
        upload.state = UploadState.ABORTED
    live = {
        upload.store_upload_id
        for upload in session.execute(
            select(Upload).where(Upload.state.in_([UploadState.OPEN, UploadState.COMPLETING]))
        ).scalars()
    }
    orphans = [
        open_upload
        for open_upload in storage.list_open_multipart(now - timedelta(seconds=ttl_seconds))
        if open_upload.upload_id not in live
    ]
    for orphan in orphans:
        storage.abort_multipart(orphan.key, orphan.upload_id)
    session.flush()
    return SweepResult(len(expired), len(orphans))


def download_url(storage: Storage, document: Document) -> str | None:
    if not storage.supports_presign:
        return None
    return storage.presign_get(document.object_key, DOWNLOAD_TTL, document.filename)
