"""Documents and uploads: the rules around the object store; no HTTP here.

Every storage call here blocks; callers run these functions in worker threads.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.database import utcnow
from app.core.errors import Conflict, InvalidContent, NotFound, ProblemItem, UnsupportedMediaType
from app.documents.models import Document, Upload, UploadState
from app.documents.sniff import (
    SNIFF_BYTES,
    Finding,
    active_content,
    active_extension,
    filename_problem,
    sniff,
)
from app.inspections.models import Inspection, InspectionStatus
from app.inspections.service import may_see_agency_object
from app.requests.models import DocumentRequest
from app.storage import Storage, StoredObject

MIN_PART_BYTES = 8 * 1024 * 1024
MAX_PARTS = 10_000
PRESIGN_TTL = timedelta(minutes=15)
DOWNLOAD_TTL = timedelta(minutes=5)


def new_object_key(inspection_id: uuid.UUID) -> str:
    # Generated, never derived from a file name: names are shown, not trusted.
    return f"inspections/{inspection_id}/{uuid.uuid4().hex}"


def check_may_upload(session: Session, principal: Principal, request: DocumentRequest) -> None:
    if request.addressee_organisation_id != principal.organisation_id:
        raise NotFound("No such request.")
    if request.withdrawn:
        raise Conflict("This request no longer applies.", code="request_withdrawn")
    inspection = session.get(Inspection, request.inspection_id)
    if inspection is None or inspection.status is InspectionStatus.CLOSED:
        raise Conflict(
            "The inspection is closed; nothing more can be sent.", code="inspection_closed"
        )


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
    key = new_object_key(request.inspection_id)
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
        store_upload_id=storage.start_multipart(key, "application/octet-stream"),
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    )
    session.add(upload)
    session.flush()
    return upload


def part_count(upload: Upload) -> int:
    return max(1, math.ceil(upload.size / upload.part_size))


def get_open_upload(session: Session, principal: Principal, upload_id: uuid.UUID) -> Upload:
    upload = session.get(Upload, upload_id)
    if upload is None or upload.client_id != principal.client_id:
        raise NotFound("No such upload.")
    if upload.state is not UploadState.OPEN or upload.expires_at < utcnow():
        raise Conflict(f"The upload is {upload.state.value} or expired.", code="upload_closed")
    return upload


def _mismatch(message: str) -> InvalidContent:
    return InvalidContent(
        message,
        code="upload_verification_failed",
        errors=[ProblemItem(code="mismatch", message=message)],
    )


def complete_upload(
    session: Session,
    storage: Storage,
    upload: Upload,
    request: DocumentRequest,
    principal: Principal,
    parts: list[tuple[int, str]],
) -> Document:
    """Assemble the parts, verify size and SHA-256 by reading the object back, then publish.

    Any mismatch deletes the object: a document becomes visible only when its bytes are
    stored and verified.
    """
    storage.complete_multipart(upload.object_key, upload.store_upload_id, parts)
    try:
        size, digest, head = _read_back(storage, upload.object_key)
        if size != upload.size or digest != upload.sha256:
            raise _mismatch(
                f"The assembled file has {size} bytes and SHA-256 {digest}; "
                f"{upload.size} bytes and {upload.sha256} were declared."
            )
        media_type = sniff_or_refuse(head, upload.filename, "filename")
    except Exception:
        storage.delete(upload.object_key)
        upload.state = UploadState.ABORTED
        raise
    stored = StoredObject(key=upload.object_key, size=size, sha256=digest)
    document = record_document(session, request, principal, stored, upload.filename, media_type)
    upload.state, upload.document_id = UploadState.COMPLETED, document.id
    session.flush()
    return document


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
    """Abort uploads left open past their time, ours and any the store still holds."""
    now = utcnow()
    expired = (
        session.execute(
            select(Upload).where(Upload.state == UploadState.OPEN, Upload.expires_at < now)
        )
        .scalars()
        .all()
    )
    for upload in expired:
        storage.abort_multipart(upload.object_key, upload.store_upload_id)
        upload.state = UploadState.ABORTED
    live = {
        upload.store_upload_id
        for upload in session.execute(
            select(Upload).where(Upload.state == UploadState.OPEN)
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


def part_url(storage: Storage, upload: Upload, part_number: int) -> str:
    if storage.supports_presign:
        return storage.presign_part(
            upload.object_key, upload.store_upload_id, part_number, PRESIGN_TTL
        )
    # The local store has no URLs of its own: parts come through the API instead.
    return f"/v1/uploads/{upload.id}/parts/{part_number}"
