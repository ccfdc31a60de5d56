from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from functools import partial
from typing import Annotated, Any

import anyio
from anyio import to_thread
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from app.audit import chain as audit
from app.auth.deps import authorize
from app.auth.principal import Principal
from app.core.deps import AppSettings, DbSession
from app.core.errors import InvalidContent, PayloadTooLarge, UnsupportedMediaType, error_responses
from app.documents import service
from app.documents.errors import TOO_LARGE, ClientDisconnected, problem_for
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
from app.storage import StorageError, download_headers
from app.storage.deps import StorageDep

logger = logging.getLogger("jtai.documents")
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


@contextlib.contextmanager
def _answered_as_problems(action: str) -> Iterator[None]:
    """A client that goes away mid-body, or a store that fails, is a problem response with
    fixed wording: never a 500, a traceback or a store's own words (its upload id)."""
    try:
        yield
    except ClientDisconnect:
        logger.info("client disconnected", extra={"during": action})
        raise ClientDisconnected(f"The client disconnected during the {action}.") from None
    except StorageError as exc:
        raise problem_for(exc) from None


async def _end_transaction(session: Session) -> None:
    # The checks are done and the body may take minutes: no transaction (on SQLite, the
    # database's write lock) is held while it arrives. The write re-checks afresh.
    await to_thread.run_sync(session.commit)


def _declared_length(request: Request) -> int | None:
    try:
        return int(request.headers["content-length"])
    except (KeyError, ValueError):
        return None


@router.post(
    "/requests/{request_id}/documents",
    response_model=DocumentRead,
    status_code=201,
    responses=error_responses(401, 403, 404, 409, 413, 415, 422, 503),
    openapi_extra=MULTIPART_DOC,
    summary="Upload a document against a request (multipart field 'file', streamed)",
)
async def upload_document(
    request_id: uuid.UUID,
    request: Request,
    session: DbSession,
    storage: StorageDep,
    settings: AppSettings,
    principal: Principal = authorize("upload_document"),
) -> DocumentRead:
    asked = await to_thread.run_sync(service.writable_request, session, principal, request_id)
    await _end_transaction(session)
    try:
        boundary = boundary_of(request.headers.get("content-type"))
    except MultipartError as exc:
        raise UnsupportedMediaType(str(exc), code="multipart_required") from None
    try:
        with _answered_as_problems("upload"):
            stream = await open_file_field(request.stream(), boundary, SNIFF_BYTES)
    except MultipartError as exc:
        raise InvalidContent(str(exc), code="broken_multipart") from None
    if not stream.head:
        raise InvalidContent("The file is empty.", code="empty_file")
    media_type = service.sniff_or_refuse(stream.head, stream.filename)
    key = service.new_object_key(asked.inspection_id)
    put = partial(
        storage.put_stream,
        key,
        max_bytes=settings.max_upload_bytes,
        content_type=media_type,
    )
    try:
        with _answered_as_problems("upload"):
            stored = await consume_in_thread(stream.head, stream.rest, put)
    except MultipartError as exc:
        raise InvalidContent(str(exc), code="broken_multipart") from None
    try:
        document = await to_thread.run_sync(
            service.publish_streamed,
            session,
            principal,
            request_id,
            stored,
            stream.filename,
            media_type,
        )
    except BaseException:
        # Nothing half-written stays: the row failed, so the object goes too.
        with anyio.CancelScope(shield=True):
            await to_thread.run_sync(storage.delete, key)
        raise
    _audit_document(session, principal, "document.uploaded", document)
    return DocumentRead.model_validate(document)


@router.post(
    "/requests/{request_id}/uploads",
    response_model=UploadRead,
    status_code=201,
    responses=error_responses(401, 403, 404, 409, 413, 422, 503),
    summary="Start a large upload: part URLs that go straight to the store",
)
def create_upload(
    request_id: uuid.UUID,
    body: UploadCreate,
    session: DbSession,
    storage: StorageDep,
    settings: AppSettings,
    principal: Principal = authorize("create_upload"),
) -> UploadRead:
    asked = service.writable_request(session, principal, request_id)
    if body.size > settings.max_upload_bytes:
        raise PayloadTooLarge(TOO_LARGE, code="file_too_large")
    wanted = service.NewUpload(body.filename, body.size, body.sha256)
    upload = service.create_upload(
        session, storage, asked, principal, wanted, settings.upload_ttl_seconds
    )
    parts_expire_at = service.part_urls_expire_at(upload)
    return UploadRead(
        upload_id=upload.id,
        part_size=upload.part_size,
        parts=[
            UploadPart(
                part_number=n,
                size=service.planned_part_size(upload, n),
                url=service.part_url(storage, upload, n),
                expires_at=parts_expire_at,
            )
            for n in range(1, service.part_count(upload) + 1)
        ],
        expires_at=upload.expires_at,
        complete_url=f"/v1/uploads/{upload.id}/complete",
    )


@router.put(
    "/uploads/{upload_id}/parts/{part_number}",
    response_model=PartStored,
    responses=error_responses(401, 403, 404, 409, 413, 422, 503),
    summary="Send one part of an upload through the API (stores without presigned URLs)",
)
async def upload_part(
    upload_id: uuid.UUID,
    part_number: int,
    request: Request,
    session: DbSession,
    storage: StorageDep,
    settings: AppSettings,
    principal: Principal = authorize("upload_part"),
) -> PartStored:
    part = await to_thread.run_sync(
        service.writable_part,
        session,
        principal,
        upload_id,
        part_number,
        _declared_length(request),
    )
    await _end_transaction(session)
    store = partial(service.store_part, storage, part)
    with _answered_as_problems("part upload"):
        etag = await consume_in_thread(b"", request.stream().__aiter__(), store)
    return PartStored(part_number=part_number, etag=etag)


@router.post(
    "/uploads/{upload_id}/complete",
    response_model=DocumentRead,
    status_code=201,
    responses=error_responses(401, 403, 404, 409, 415, 422, 503),
    summary="Assemble an upload, verify its size and SHA-256, and publish the document",
)
def complete_upload(
    upload_id: uuid.UUID,
    body: UploadComplete,
    session: DbSession,
    storage: StorageDep,
    settings: AppSettings,
    principal: Principal = authorize("complete_upload"),
) -> DocumentRead:
    parts = [(part.part_number, part.etag) for part in body.parts]
    document = service.complete_upload(session, storage, principal, upload_id, parts)
    _audit_document(session, principal, "document.uploaded", document)
    return DocumentRead.model_validate(document)


@router.delete(
    "/uploads/{upload_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 409),
    summary="Give up an open upload: the parts sent are discarded",
)
def abort_upload(
    upload_id: uuid.UUID,
    session: DbSession,
    storage: StorageDep,
    settings: AppSettings,
    principal: Principal = authorize("abort_upload"),
) -> Response:
    service.abort_upload(session, storage, principal, upload_id)
    return Response(status_code=204)


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
    storage: StorageDep,
    settings: AppSettings,
    principal: Principal = authorize("download_document"),
    redirect: Annotated[bool, Query(description="Answer 307 to a presigned URL")] = False,
) -> Any:
    document = service.get_document(session, principal, document_id)
    _audit_document(session, principal, "document.downloaded", document)
    if redirect and (url := service.download_url(storage, document)):
        return RedirectResponse(url, status_code=307)
    return StreamingResponse(
        storage.open_stream(document.object_key),
        media_type=document.media_type,
        headers={**download_headers(document.filename), "Content-Length": str(document.size)},
    )
