from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated, Any

import anyio
from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, StreamingResponse

from app.audit import chain as audit
from app.auth.deps import authorize
from app.auth.principal import Principal
from app.core.deps import DbSession, State
from app.core.errors import InvalidContent, PayloadTooLarge, UnsupportedMediaType, error_responses
from app.documents import service
from app.documents.models import Document
from app.documents.multipart import MultipartError, boundary_of, open_file_field
from app.documents.read_ahead import consume_in_thread
from app.documents.schemas import (
    DocumentRead,
    PartStored,
    UploadComplete,
    UploadCreate,
    UploadPart,
    UploadRead,
)
from app.documents.sniff import SNIFF_BYTES
from app.requests import service as requests
from app.storage import EmptyObject, ObjectTooLarge, StorageError, download_headers

router = APIRouter(prefix="/v1", tags=["documents"])

MULTIPART_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
}


TOO_LARGE = "The file is larger than the exchange accepts."


def _storage_error(exc: StorageError) -> Exception:
    if isinstance(exc, ObjectTooLarge):
        return PayloadTooLarge(TOO_LARGE, code="file_too_large")
    if isinstance(exc, EmptyObject):
        return InvalidContent("The file is empty.", code="empty_file")
    return exc


def _audit_document(session: Any, principal: Principal, action: str, document: Document) -> None:
    audit.record(
        session,
        principal,
        action,
        "document",
        document.id,
        inspection_id=document.inspection_id,
        detail={"sha256": document.sha256, "size": document.size, "late": document.late},
    )


@router.post(
    "/requests/{request_id}/documents",
    response_model=DocumentRead,
    status_code=201,
    responses=error_responses(401, 403, 404, 409, 413, 415, 422),
    openapi_extra=MULTIPART_DOC,
    summary="Upload a document against a request (multipart field 'file', streamed)",
)
async def upload_document(
    request_id: uuid.UUID,
    request: Request,
    session: DbSession,
    state: State,
    principal: Principal = authorize("upload_document"),
) -> DocumentRead:
    asked = await to_thread.run_sync(requests.get_request, session, principal, request_id)
    await to_thread.run_sync(service.check_may_upload, session, principal, asked)
    try:
        boundary = boundary_of(request.headers.get("content-type"))
    except MultipartError as exc:
        raise UnsupportedMediaType(str(exc), code="multipart_required") from None
    try:
        stream = await open_file_field(request.stream(), boundary, SNIFF_BYTES)
    except MultipartError as exc:
        raise InvalidContent(str(exc), code="broken_multipart") from None
    if not stream.head:
        raise InvalidContent("The file is empty.", code="empty_file")
    media_type = service.sniff_or_refuse(stream.head, stream.filename)
    key = service.new_object_key(asked.inspection_id)
    put = partial(
        state.storage.put_stream,
        key,
        max_bytes=state.settings.max_upload_bytes,
        content_type=media_type,
    )
    try:
        stored = await consume_in_thread(stream.head, stream.rest, put)
    except StorageError as exc:
        raise _storage_error(exc) from None
    except MultipartError as exc:
        raise InvalidContent(str(exc), code="broken_multipart") from None
    try:
        document = await to_thread.run_sync(
            service.record_document, session, asked, principal, stored, stream.filename, media_type
        )
    except BaseException:
        # Nothing half-written stays: the row failed, so the object goes too.
        with anyio.CancelScope(shield=True):
            await to_thread.run_sync(state.storage.delete, key)
        raise
    _audit_document(session, principal, "document.uploaded", document)
    return DocumentRead.model_validate(document)


@router.post(
    "/requests/{request_id}/uploads",
    response_model=UploadRead,
    status_code=201,
    responses=error_responses(401, 403, 404, 409, 413, 422),
    summary="Start a large upload: part URLs that go straight to the store",
)
def create_upload(
    request_id: uuid.UUID,
    body: UploadCreate,
    session: DbSession,
    state: State,
    principal: Principal = authorize("create_upload"),
) -> UploadRead:
    asked = requests.get_request(session, principal, request_id)
    service.check_may_upload(session, principal, asked)
    if body.size > state.settings.max_upload_bytes:
        raise PayloadTooLarge(TOO_LARGE, code="file_too_large")
    wanted = service.NewUpload(body.filename, body.size, body.sha256)
    upload = service.create_upload(
        session, state.storage, asked, principal, wanted, state.settings.upload_ttl_seconds
    )
    return UploadRead(
        upload_id=upload.id,
        part_size=upload.part_size,
        parts=[
            UploadPart(part_number=n, url=service.part_url(state.storage, upload, n))
            for n in range(1, service.part_count(upload) + 1)
        ],
        expires_at=upload.expires_at,
        complete_url=f"/v1/uploads/{upload.id}/complete",
    )


@router.put(
    "/uploads/{upload_id}/parts/{part_number}",
    response_model=PartStored,
    responses=error_responses(401, 403, 404, 409, 413, 422),
    summary="Send one part of an upload through the API (stores without presigned URLs)",
)
async def upload_part(
    upload_id: uuid.UUID,
    part_number: int,
    request: Request,
    session: DbSession,
    state: State,
    principal: Principal = authorize("upload_part"),
) -> PartStored:
    upload = await to_thread.run_sync(service.get_open_upload, session, principal, upload_id)
    if not 1 <= part_number <= service.part_count(upload):
        raise InvalidContent("No such part of this upload.", code="invalid_part_number")
    put = partial(
        state.storage.put_part,
        upload.object_key,
        upload.store_upload_id,
        part_number,
        max_bytes=upload.part_size,
    )
    try:
        etag = await consume_in_thread(b"", request.stream().__aiter__(), put)
    except StorageError as exc:
        raise _storage_error(exc) from None
    return PartStored(part_number=part_number, etag=etag)


@router.post(
    "/uploads/{upload_id}/complete",
    response_model=DocumentRead,
    status_code=201,
    responses=error_responses(401, 403, 404, 409, 415, 422),
    summary="Assemble an upload, verify its size and SHA-256, and publish the document",
)
def complete_upload(
    upload_id: uuid.UUID,
    body: UploadComplete,
    session: DbSession,
    state: State,
    principal: Principal = authorize("complete_upload"),
) -> DocumentRead:
    upload = service.get_open_upload(session, principal, upload_id)
    asked = requests.get_request(session, principal, upload.request_id)
    service.check_may_upload(session, principal, asked)
    parts = [(part.part_number, part.etag) for part in body.parts]
    try:
        document = service.complete_upload(session, state.storage, upload, asked, principal, parts)
    except StorageError as exc:
        raise InvalidContent(f"The store refused the parts: {exc}", code="invalid_parts") from None
    _audit_document(session, principal, "document.uploaded", document)
    return DocumentRead.model_validate(document)


@router.get(
    "/documents/{document_id}",
    response_model=DocumentRead,
    responses=error_responses(401, 403, 404),
    summary="A document's metadata",
)
def get_document(
    document_id: uuid.UUID,
    session: DbSession,
    principal: Principal = authorize("get_document"),
) -> DocumentRead:
    document = service.get_document(session, principal, document_id)
    _audit_document(session, principal, "document.metadata_read", document)
    return DocumentRead.model_validate(document)


@router.get(
    "/documents/{document_id}/content",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The bytes, with the type sniffed when they were uploaded",
        },
        307: {"description": "A presigned store URL valid for at most 5 minutes"},
        **error_responses(401, 403, 404),
    },
    summary="A document's bytes (or, with redirect=true, a short-lived store URL)",
)
def download_document(
    document_id: uuid.UUID,
    session: DbSession,
    state: State,
    principal: Principal = authorize("download_document"),
    redirect: Annotated[bool, Query(description="Answer 307 to a presigned URL")] = False,
) -> Any:
    document = service.get_document(session, principal, document_id)
    _audit_document(session, principal, "document.downloaded", document)
    if redirect and (url := service.download_url(state.storage, document)):
        return RedirectResponse(url, status_code=307)
    return StreamingResponse(
        state.storage.open_stream(document.object_key),
        media_type=document.media_type,
        headers={**download_headers(document.filename), "Content-Length": str(document.size)},
    )
