"""A document's row: recorded once its bytes are stored and checked, and audited with it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.principal import Principal
from app.core.database import utcnow
from app.document_requests.models import DocumentRequest
from app.document_requests.service import other_addressees
from app.documents.access import lock_answers
from app.documents.kinds import checked_kind
from app.documents.models import Document
from app.documents.nil_returns import withdraw_for
from app.events import audiences as events
from app.storage import StoredObject


def new_object_key(inspection_id: uuid.UUID) -> str:
    # Generated, never derived from a file name: names are shown, not trusted.
    return f"inspections/{inspection_id}/{uuid.uuid4().hex}"


def audit_document(session: Session, principal: Principal, action: str, document: Document) -> None:
    """Audit a look at or change to a document; one about a child (a case-file request's)
    names the child, so that the child's access log shows who read it."""
    request = session.get(DocumentRequest, document.request_id)
    audit.record(
        session,
        principal,
        action,
        "document",
        document.id,
        inspection_id=document.inspection_id,
        child_id=request.child_id if request is not None else None,
        detail={
            "sha256": document.sha256,
            "size": document.size,
            "late": document.late,
            "kind": document.document_kind,
        },
    )


def _previous(
    session: Session, request: DocumentRequest, organisation_id: uuid.UUID, kind: str | None
) -> Document | None:
    """The latest document of the same kind (versions never cross kinds)."""
    return session.execute(
        select(Document)
        .where(
            Document.request_id == request.id,
            Document.organisation_id == organisation_id,
            Document.document_kind.is_not_distinct_from(kind),
        )
        .order_by(Document.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _new_document(
    session: Session,
    request: DocumentRequest,
    principal: Principal,
    stored: StoredObject,
    filename: str,
    media_type: str,
    kind: str | None,
) -> Document:
    now = utcnow()
    previous = _previous(session, request, principal.organisation_id, kind)
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
        document_kind=kind,
        supersedes_id=previous.id if previous else None,
    )
    session.add(document)
    session.flush()
    return document


def publish(
    session: Session,
    request: DocumentRequest,
    principal: Principal,
    stored: StoredObject,
    filename: str,
    media_type: str,
    document_kind: str | None = None,
) -> Document:
    """Record a document whose bytes are stored and checked, of one of the kinds the request
    covers (none for a request without kinds), and audit its upload; a nil return standing
    for that kind is withdrawn by it."""
    kind = checked_kind(request, document_kind, "document_kind")
    lock_answers(session, request)
    document = _new_document(session, request, principal, stored, filename, media_type, kind)
    audit_document(session, principal, "document.uploaded", document)
    withdraw_for(session, principal, request, document)
    events.document_received(
        session,
        request.inspection_id,
        request.id,
        document.id,
        other_addressees(session, request.id, principal.organisation_id),
    )
    return document
