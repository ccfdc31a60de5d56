"""Presigned multipart uploads: the plan of parts, and parts sent through the API instead.

A big file goes straight to the store in parts of a planned size, each to a URL presigned for
exactly that size; the API stays out of the byte path. A store without presigned URLs (the
local folder) takes the parts through the API's own part route, held to the same plan.
Completing or giving up an upload is ``completion``'s.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.database import utcnow
from app.core.errors import AppError, Conflict, InvalidContent, PayloadTooLarge
from app.document_requests.models import DocumentRequest
from app.documents.access import writable_request, writable_upload
from app.documents.content import check_filename
from app.documents.errors import TOO_LARGE, problem_for
from app.documents.kinds import checked_kind
from app.documents.models import Upload
from app.documents.records import new_object_key
from app.storage import ObjectTooLarge, Storage, StorageError
from app.storage.base import Chunk

MIN_PART_BYTES = 8 * 1024 * 1024
MAX_PARTS = 10_000
# How long a part URL (presigned, or the API's own part route) takes bytes after the plan.
PRESIGN_TTL = timedelta(minutes=15)


@dataclass(frozen=True)
class NewUpload:
    filename: str
    size: int
    sha256: str
    document_kind: str | None = None  # one of the request's kinds, where it has them


@dataclass(frozen=True)
class PlannedPart:
    upload: Upload
    number: int
    size: int


@dataclass(frozen=True)
class PartPlan:
    number: int
    size: int
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class UploadPlan:
    upload: Upload
    parts: list[PartPlan]


def part_size_for(size: int) -> int:
    """Parts of at least 8 MiB, and never more than S3's 10,000 of them."""
    return max(MIN_PART_BYTES, math.ceil(size / MAX_PARTS))


def start_upload(
    session: Session,
    storage: Storage,
    principal: Principal,
    request_id: uuid.UUID,
    wanted: NewUpload,
    *,
    max_bytes: int,
    ttl_seconds: int,
) -> UploadPlan:
    """Plan an upload to a request the caller may write to, and where each part goes."""
    request = writable_request(session, principal, request_id, "create_upload")
    if wanted.size > max_bytes:
        raise PayloadTooLarge(TOO_LARGE, code="file_too_large")
    upload = create_upload(session, storage, request, principal, wanted, ttl_seconds)
    expire_at = part_urls_expire_at(upload)
    parts = [
        PartPlan(n, planned_part_size(upload, n), part_url(storage, upload, n), expire_at)
        for n in range(1, part_count(upload) + 1)
    ]
    return UploadPlan(upload, parts)


def create_upload(
    session: Session,
    storage: Storage,
    request: DocumentRequest,
    principal: Principal,
    wanted: NewUpload,
    ttl_seconds: int,
) -> Upload:
    check_filename(wanted.filename, "body.filename")  # before the store starts anything
    kind = checked_kind(request, wanted.document_kind, "body.kind")
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
        document_kind=kind,
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
    upload = writable_upload(session, principal, upload_id, "upload_part")
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
