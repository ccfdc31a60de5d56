"""What has been asked and sent, per request and per agency: a view over requests, documents
and list pushes, read only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.child_lists.repository import versions_by_organisation
from app.core.database import aware
from app.core.moments import utc_text
from app.document_requests import service as requests
from app.document_requests.models import DocumentRequest
from app.documents.schemas import DocumentRead, NilReturnRead
from app.documents.service import (
    KindAnswer,
    answered_at,
    answers_of,
    documents_for,
    nil_returns_for,
)
from app.inspections.context import InspectionContext
from app.inspections.service import participants
from app.organisations.kinds import AGENCY_KINDS
from app.submissions.schemas import KindAnswerRead, RequestRead, RequestState, SubmissionRow

OWED = frozenset({RequestState.OPEN, RequestState.PARTLY_ANSWERED})


def _state(request: DocumentRequest, answers: Sequence[KindAnswer]) -> RequestState:
    if request.withdrawn:
        return RequestState.WITHDRAWN
    last = answered_at(answers)
    if last is None:
        some = any(answer.answered_at is not None for answer in answers)
        return RequestState.PARTLY_ANSWERED if some else RequestState.OPEN
    late = request.due_at is not None and last > aware(request.due_at)
    return RequestState.LATE if late else RequestState.ANSWERED


def _answer_read(
    request: DocumentRequest,
    answer: KindAnswer,
    titles: dict[str, str],
    viewer: uuid.UUID | None,
) -> KindAnswerRead:
    """How one kind stands; an agency (``viewer``) sees that another addressee answered, and
    who, but not what it sent."""
    document, nil_return = answer.document, answer.nil_return
    by = (
        document.organisation_id if document else nil_return.organisation_id if nil_return else None
    )
    if viewer is not None and by != viewer:
        document, nil_return = None, None
    due = aware(request.due_at) if request.due_at is not None else None
    return KindAnswerRead(
        document_kind=answer.kind,
        title=titles.get(answer.kind) if answer.kind is not None else None,
        status=answer.status,
        answered_at=answer.answered_at,
        late=bool(due and answer.answered_at and answer.answered_at > due),
        document_id=document.id if document else None,
        document_received_at=document.created_at if document else None,
        nil_return_id=nil_return.id if nil_return else None,
        nil_return_reason=nil_return.reason if nil_return else None,
        answered_by_organisation_id=by,
    )


def read_models(
    session: Session, context: InspectionContext, found: Sequence[DocumentRequest]
) -> list[RequestRead]:
    """Requests with their documents, nil returns, how each kind stands, and their state. An
    agency reading a request of several addressees sees what it sent itself, and of the
    others only that (and who) answered."""
    ids = [request.id for request in found]
    documents, nil_returns = documents_for(session, ids), nil_returns_for(session, ids)
    addressees = requests.addressees_of(session, ids)
    titles = {category.key: category.title for category in context.theme.case_file_documents}
    actor = context.actor
    viewer = actor.organisation_id if actor.is_agency else None
    models = []
    for request in found:
        answers = answers_of(request, documents[request.id], nil_returns[request.id])
        sent = [d for d in documents[request.id] if viewer in (None, d.organisation_id)]
        said = [n for n in nil_returns[request.id] if viewer in (None, n.organisation_id)]
        models.append(
            RequestRead(
                id=request.id,
                kind=request.kind,
                title=request.title,
                detail=request.detail,
                addressee_organisation_id=request.addressee_organisation_id,
                addressee_organisation_ids=addressees[request.id],
                child_id=request.child_id,
                item_number=request.item_number,
                categories=request.categories,
                due_at=request.due_at,
                state=_state(request, answers),
                answers=[_answer_read(request, a, titles, viewer) for a in answers],
                documents=[DocumentRead.model_validate(d) for d in sent],
                nil_returns=[NilReturnRead.model_validate(n) for n in said],
            )
        )
    return models


def visible_requests(session: Session, context: InspectionContext) -> list[RequestRead]:
    """What is asked of whom by when; an agency sees what is asked of it."""
    found = requests.visible_requests(session, context.inspection, context.actor)
    return read_models(session, context, found)


def submissions(
    session: Session, context: InspectionContext, organisation_id: uuid.UUID | None
) -> list[SubmissionRow]:
    """Per agency: the list versions it pushed, its documents and what is still open."""
    inspection, principal = context.inspection, context.actor
    members = [org for _, org in participants(session, [inspection.id])[inspection.id]]
    agencies = [org for org in members if org.kind in AGENCY_KINDS]
    if principal.is_agency:
        agencies = [org for org in agencies if org.id == principal.organisation_id]
    if organisation_id is not None:
        agencies = [org for org in agencies if org.id == organisation_id]
    asked = visible_requests(session, context)
    pushed = versions_by_organisation(session, inspection.id)  # one query, not one per agency
    rows = []
    for organisation in agencies:
        versions = pushed.get(organisation.id, [])
        mine = [r for r in asked if organisation.id in r.addressee_organisation_ids]
        rows.append(
            SubmissionRow(
                organisation_id=organisation.id,
                organisation_name=organisation.name,
                kind=organisation.kind.value,
                list_versions=[
                    {
                        "list_key": v.list_key,
                        "number": v.number,
                        "created_at": utc_text(v.created_at),
                        "late": v.late,
                        "rows": v.row_count,
                    }
                    for v in versions
                ],
                documents=[
                    d for r in mine for d in r.documents if d.organisation_id == organisation.id
                ],
                nil_returns=[
                    n for r in mine for n in r.nil_returns if n.organisation_id == organisation.id
                ],
                open_requests=[r for r in mine if r.state in OWED],
            )
        )
    return rows
