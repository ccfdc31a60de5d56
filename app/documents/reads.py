"""Reading documents: who may, and every read of a document's metadata or bytes audited."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.errors import NotFound
from app.documents.models import Document, NilReturn
from app.documents.records import audit_document
from app.inspections.service import may_see_agency_object
from app.storage import Storage

DOWNLOAD_TTL = timedelta(minutes=5)


def get_document(session: Session, principal: Principal, document_id: uuid.UUID) -> Document:
    """Inspectors of the inspection read every document; an agency only its own."""
    document = session.get(Document, document_id)
    if document is None or not may_see_agency_object(
        session, principal, document.inspection_id, document.organisation_id
    ):
        raise NotFound("No such document.")
    return document


def read_metadata(session: Session, principal: Principal, document_id: uuid.UUID) -> Document:
    document = get_document(session, principal, document_id)
    audit_document(session, principal, "document.metadata_read", document)
    return document


@dataclass(frozen=True)
class Download:
    document: Document
    url: str | None  # a short-lived store URL, when asked for and the store has them
    chunks: Iterator[bytes]  # else the bytes, as the store streams them (none with a URL)


def download(
    session: Session,
    storage: Storage,
    principal: Principal,
    document_id: uuid.UUID,
    redirect: bool,
) -> Download:
    document = get_document(session, principal, document_id)
    audit_document(session, principal, "document.downloaded", document)
    if redirect and (url := download_url(storage, document)):
        return Download(document, url, iter(()))
    return Download(document, None, storage.open_stream(document.object_key))


def download_url(storage: Storage, document: Document) -> str | None:
    if not storage.supports_presign:
        return None
    return storage.presign_get(document.object_key, DOWNLOAD_TTL, document.filename)


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


def nil_returns_for(
    session: Session, request_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[NilReturn]]:
    """Every nil return of each request, withdrawn ones too, oldest first."""
    ids = list(request_ids)
    grouped: dict[uuid.UUID, list[NilReturn]] = {request_id: [] for request_id in ids}
    if not ids:
        return grouped
    rows = session.execute(
        select(NilReturn).where(NilReturn.request_id.in_(ids)).order_by(NilReturn.created_at)
    ).scalars()
    for nil_return in rows:
        grouped[nil_return.request_id].append(nil_return)
    return grouped
