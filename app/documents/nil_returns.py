"""Nil returns: an agency answers a request, or one kind of a case-file request, "none held".

The guidance asks for many things only where they exist ("if recent examples exist", "where
applicable", "best examples"); an agency holding none says so with a reason, and the request
(or that kind of it) counts as answered, for the request's state and for its milestone. A
later document of the kind withdraws the nil return (``withdraw_for``); a later nil return of
the kind replaces it. Neither is deleted: what was said, and when, stays readable.

The reason is free text about a child's case: it is kept in the nil return (purged with the
inspection's other child data) and not copied into the audit trail, which outlives a purge;
the trail records who answered what, when, and the reason's length.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.principal import Principal
from app.core.database import utcnow
from app.core.errors import Conflict
from app.document_requests.models import DocumentRequest
from app.document_requests.service import other_addressees
from app.documents.access import lock_answers, writable_request
from app.documents.kinds import checked_kind
from app.documents.models import Document, NilReturn
from app.events import audiences as events

OPERATION = "record_nil_return"


def record_nil_return(
    session: Session,
    principal: Principal,
    request_id: uuid.UUID,
    reason: str,
    document_kind: str | None,
) -> NilReturn:
    """Answer a request (or one kind of it) as "none held"; audited.

    The addressee only (another organisation's request: 404; a closed inspection or a
    withdrawn request: 409). 422 for a kind the request does not cover, or none named where
    it has kinds; 409 when a document of that kind has been sent already. A nil return of a
    kind that has one replaces it.
    """
    request = writable_request(session, principal, request_id, OPERATION)
    kind = checked_kind(request, document_kind, "body.kind")
    lock_answers(session, request)
    if _documents_of(session, request, kind):
        raise Conflict(
            "A document of this kind has been sent to the request: it is not 'none held'.",
            code="document_already_sent",
        )
    now = utcnow()
    previous = current_nil_return(session, request, kind)
    nil_return = NilReturn(
        inspection_id=request.inspection_id,
        request_id=request.id,
        organisation_id=principal.organisation_id,
        client_id=principal.client_id,
        document_kind=kind,
        reason=reason,
        created_at=now,
        late=request.due_at is not None and now > request.due_at,
        supersedes_id=previous.id if previous else None,
    )
    session.add(nil_return)
    if previous is not None:
        previous.withdrawn_at = now
    session.flush()
    _audit(session, principal, "nil_return.recorded", request, nil_return)
    others = other_addressees(session, request.id, nil_return.organisation_id)
    events.nil_return_received(session, request.inspection_id, request.id, others)
    return nil_return


def withdraw_for(
    session: Session, principal: Principal, request: DocumentRequest, document: Document
) -> list[NilReturn]:
    """A document of a kind withdraws the nil return standing for that kind; audited."""
    current = current_nil_return(session, request, document.document_kind)
    if current is None:
        return []
    current.withdrawn_at = document.created_at
    current.withdrawn_by_document_id = document.id
    session.flush()
    _audit(session, principal, "nil_return.withdrawn", request, current)
    return [current]


def current_nil_return(
    session: Session, request: DocumentRequest, kind: str | None
) -> NilReturn | None:
    """The nil return standing for a kind of the request (None: the request as a whole)."""
    return session.execute(
        select(NilReturn)
        .where(
            NilReturn.request_id == request.id,
            NilReturn.document_kind.is_not_distinct_from(kind),
            NilReturn.withdrawn_at.is_(None),
        )
        .order_by(NilReturn.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _documents_of(session: Session, request: DocumentRequest, kind: str | None) -> bool:
    found = session.execute(
        select(Document.id)
        .where(Document.request_id == request.id, Document.document_kind.is_not_distinct_from(kind))
        .limit(1)
    ).first()
    return found is not None


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    request: DocumentRequest,
    nil_return: NilReturn,
) -> None:
    audit.record(
        session,
        principal,
        action,
        "nil_return",
        nil_return.id,
        inspection_id=request.inspection_id,
        child_id=request.child_id,
        detail={
            "request_id": str(request.id),
            "kind": nil_return.document_kind,
            "late": nil_return.late,
            "reason_length": len(nil_return.reason),
            "withdrawn_by_document_id": (
                str(nil_return.withdrawn_by_document_id)
                if nil_return.withdrawn_by_document_id
                else None
            ),
        },
    )
