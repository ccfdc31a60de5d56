"""What has been asked and sent, per request and per agency: a view over requests, documents
and list pushes, read only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.child_lists.repository import versions_by_organisation
from app.core.database import aware
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
from app.themes.schema.theme import Theme

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
    request: DocumentRequest, answer: KindAnswer, titles: dict[str, str]
) -> KindAnswerRead:
    document, nil_return = answer.document, answer.nil_return
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
    )


def read_models(
    session: Session, theme: Theme, found: Sequence[DocumentRequest]
) -> list[RequestRead]:
    """Requests with their documents, nil returns, how each kind stands, and their state."""
    ids = [request.id for request in found]
    documents, nil_returns = documents_for(session, ids), nil_returns_for(session, ids)
    titles = {category.key: category.title for category in theme.case_file_documents}
    models = []
    for request in found:
        answers = answers_of(request, documents[request.id], nil_returns[request.id])
        models.append(
            RequestRead(
                id=request.id,
                kind=request.kind,
                title=request.title,
                addressee_organisation_id=request.addressee_organisation_id,
                child_id=request.child_id,
                item_number=request.item_number,
                categories=request.categories,
                due_at=request.due_at,
                state=_state(request, answers),
                answers=[_answer_read(request, answer, titles) for answer in answers],
                documents=[DocumentRead.model_validate(d) for d in documents[request.id]],
                nil_returns=[NilReturnRead.model_validate(n) for n in nil_returns[request.id]],
            )
        )
    return models


def visible_requests(session: Session, context: InspectionContext) -> list[RequestRead]:
    """What is asked of whom by when; an agency sees what is asked of it."""
    found = requests.visible_requests(session, context.inspection, context.actor)
    return read_models(session, context.theme, found)


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
        mine = [r for r in asked if r.addressee_organisation_id == organisation.id]
        rows.append(
            SubmissionRow(
                organisation_id=organisation.id,
                organisation_name=organisation.name,
                kind=organisation.kind.value,
                list_versions=[
                    {
                        "list_key": v.list_key,
                        "number": v.number,
                        "created_at": v.created_at.isoformat(),
                        "late": v.late,
                        "rows": v.row_count,
                    }
                    for v in versions
                ],
                documents=[d for r in mine for d in r.documents],
                nil_returns=[n for r in mine for n in r.nil_returns],
                open_requests=[r for r in mine if r.state in OWED],
            )
        )
    return rows
