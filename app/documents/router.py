"""Documents over HTTP: parse the request, call the service, serialise the answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, StreamingResponse

from app.auth.deps import authorize
from app.auth.principal import Principal
from app.core.deps import AppSettings, DbSession
from app.core.edge import BodyKind, edge
from app.core.errors import error_responses
from app.documents import service
from app.documents.schemas import (
    DocumentRead,
    NilReturnCreate,
    NilReturnRead,
    PartStored,
    UploadComplete,
    UploadCreate,
    UploadPart,
    UploadRead,
)
from app.inspections.access import inspection_context
from app.inspections.context import InspectionContext
from app.storage import download_headers
from app.storage.deps import StorageDep

router = APIRouter(prefix="/v1", tags=["documents"])

MULTIPART_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "kind": {
                            "type": "string",
                            "maxLength": 64,
                            "description": "On a case-file request, which of its kinds the "
                            "file is (or the query's document_kind); read only when sent "
                            "before the file, since the file is stored as it arrives. "
                            "`document_kind` is taken as another name. Clients that write "
                            "fields in their own order (generated ones put the file first) "
                            "send the `document_kind` query parameter instead.",
                        },
                        "file": {"type": "string", "format": "binary"},
                    },
                    "required": ["file"],
                },
            }
        },
    }
}


BINARY = {"type": "string", "format": "binary"}
# Generators read bytes only from application/octet-stream (openapi-python-client omits any
# other binary type with a warning), so a file answer declares it beside its real media type.
OCTET_STREAM = "application/octet-stream"
PART_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": "The part's bytes: every part but the last exactly `part_size` long",
        "content": {OCTET_STREAM: {"schema": BINARY}},
    }
}


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
@edge(body=BodyKind.DOCUMENT)
async def upload_document(
    request_id: uuid.UUID,
    request: Request,
    session: DbSession,
    storage: StorageDep,
    settings: AppSettings,
    principal: Principal = authorize("upload_document"),
    document_kind: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="On a case-file request, which of its kinds the file is (or the form "
            "field of the same name)",
        ),
    ] = None,
) -> DocumentRead:
    document = await service.receive_document(
        session,
        storage,
        principal,
        request_id,
        request.headers.get("content-type"),
        request.stream(),
        settings.max_upload_bytes,
        document_kind,
    )
    return DocumentRead.model_validate(document)


@router.post(
    "/requests/{request_id}/nil-return",
    response_model=NilReturnRead,
    status_code=201,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Answer a request, or one kind of a case-file request, as 'none held'",
)
def record_nil_return(
    request_id: uuid.UUID,
    body: NilReturnCreate,
    session: DbSession,
    principal: Principal = authorize("record_nil_return"),
) -> NilReturnRead:
    nil_return = service.record_nil_return(
        session, principal, request_id, body.reason, body.document_kind
    )
    return NilReturnRead.model_validate(nil_return)


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
    plan = service.start_upload(
        session,
        storage,
        principal,
        request_id,
        service.NewUpload(body.filename, body.size, body.sha256, body.document_kind),
        max_bytes=settings.max_upload_bytes,
        ttl_seconds=settings.upload_ttl_seconds,
    )
    return UploadRead(
        id=plan.upload.id,
        part_size=plan.upload.part_size,
        parts=[
            UploadPart(
                part_number=part.number, size=part.size, url=part.url, expires_at=part.expires_at
            )
            for part in plan.parts
        ],
        expires_at=plan.upload.expires_at,
        complete_url=f"/v1/uploads/{plan.upload.id}/complete",
    )


@router.put(
    "/uploads/{upload_id}/parts/{part_number}",
    response_model=PartStored,
    responses=error_responses(401, 403, 404, 409, 413, 422, 503),
    openapi_extra=PART_BODY_DOC,
    summary="Send one part of an upload through the API (stores without presigned URLs)",
)
@edge(body=BodyKind.DOCUMENT)
async def upload_part(
    upload_id: uuid.UUID,
    part_number: int,
    request: Request,
    session: DbSession,
    storage: StorageDep,
    principal: Principal = authorize("upload_part"),
) -> PartStored:
    etag = await service.receive_part(
        session,
        storage,
        principal,
        upload_id,
        part_number,
        _declared_length(request),
        request.stream(),
    )
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
    principal: Principal = authorize("complete_upload"),
) -> DocumentRead:
    parts = [(part.part_number, part.etag) for part in body.parts]
    document = service.complete_upload(session, storage, principal, upload_id, parts)
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
    document = service.read_metadata(session, principal, document_id)
    return DocumentRead.model_validate(document)


@router.get(
    "/documents/{document_id}/content",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {OCTET_STREAM: {"schema": BINARY}},
            "description": "The bytes; `Content-Type` is the media type sniffed when they "
            "were uploaded (the document's `media_type`)",
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
    principal: Principal = authorize("download_document"),
    redirect: Annotated[bool, Query(description="Answer 307 to a presigned URL")] = False,
) -> Any:
    found = service.download(session, storage, principal, document_id, redirect)
    if found.url is not None:
        return RedirectResponse(found.url, status_code=307)
    document = found.document
    return StreamingResponse(
        found.chunks,
        media_type=document.media_type,
        headers={**download_headers(document.filename), "Content-Length": str(document.size)},
    )


@router.get(
    "/inspections/{inspection_id}/children/{child_id}/documents.zip",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/zip": {"schema": BINARY}, OCTET_STREAM: {"schema": BINARY}},
            "description": "A ZIP of the latest document of each kind from each agency, "
            "one flat entry per document",
        },
        **error_responses(401, 403, 404),
    },
    summary="Every current document about one child, as one ZIP (inspectors)",
    description="Streamed from the store as it is written; each document is audited as "
    "downloaded and appears in the child's access log.",
)
def download_child_documents(
    child_id: Annotated[str, PathParam(min_length=1, max_length=128)],
    session: DbSession,
    storage: StorageDep,
    context: InspectionContext = inspection_context("download_child_documents"),
) -> Any:
    bundle = service.child_documents(session, context, child_id)
    archive = service.zip_archive(storage, bundle)
    return StreamingResponse(
        archive,
        media_type="application/zip",
        headers={
            **download_headers(f"{child_id}-documents.zip"),
            "Content-Length": str(len(archive)),
        },
    )
