"""Reading documents: who may, and every read of a document's metadata or bytes audited."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

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


# Both answers to a request are read per request in one query: documents and nil returns.
Answer = TypeVar("Answer", Document, NilReturn)


def _by_request(
    session: Session, model: type[Answer], request_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[Answer]]:
    ids = list(request_ids)
    grouped: dict[uuid.UUID, list[Answer]] = {request_id: [] for request_id in ids}
    if not ids:
        return grouped
    rows = session.execute(
        select(model).where(model.request_id.in_(ids)).order_by(model.created_at)
    ).scalars()
    for row in rows:
        grouped[row.request_id].append(row)
    return grouped


def documents_for(
    session: Session, request_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[Document]]:
    """Every document of each request, oldest first."""
    return _by_request(session, Document, request_ids)


def nil_returns_for(
    session: Session, request_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[NilReturn]]:
    """Every nil return of each request, withdrawn ones too, oldest first."""
    return _by_request(session, NilReturn, request_ids)
