"""The progress view, for inspectors: per tracked child, per agency, per document kind and
information item, what was received (when, late or not), answered "none held" (why) or is
still owed (by when); the joint and single-agency evaluations, engagement and how many
tracking records. One page, read in a fixed handful of queries whatever the number of
children, agencies and items (requests, their documents and nil returns, evaluations,
engagement and tracking records each read once for the whole inspection).

Requests and their answers are read through ``app.document_requests`` and
``app.documents.answers``, as the requests and submissions views read them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.core.database import aware
from app.document_requests import service as requests
from app.document_requests.models import DocumentRequest
from app.documents.answers import AnswerStatus, KindAnswer
from app.documents.service import answered_at, answers_of, documents_for, nil_returns_for
from app.engagement.models import Engagement
from app.engagement.repository import engagements
from app.evaluations.models import JOINT, Evaluation
from app.evaluations.repository import current_of_inspection
from app.inspections.context import InspectionContext
from app.inspections.service import participants
from app.organisations.kinds import AGENCY_KINDS
from app.organisations.models import Organisation
from app.progress.schemas import (
    AgencyProgress,
    ChildProgress,
    EngagementProgress,
    EvaluationProgress,
    InspectionProgress,
    ItemProgress,
    RequestProgress,
)
from app.selections.service import tracked_children
from app.tracking.repository import record_counts


def _item(request: DocumentRequest, answer: KindAnswer, titles: dict[str, str]) -> ItemProgress:
    due = aware(request.due_at) if request.due_at is not None else None
    return ItemProgress(
        document_kind=answer.kind,
        title=titles.get(answer.kind) if answer.kind is not None else None,
        status=answer.status,
        answered_at=answer.answered_at,
        late=bool(due and answer.answered_at and answer.answered_at > due),
        document_id=answer.document.id if answer.document else None,
        nil_return_reason=answer.nil_return.reason if answer.nil_return else None,
        due_at=due,
    )


@dataclass(frozen=True)
class _Requests:
    """The live requests of the inspection with how each kind stands, by addressee."""

    by_child: dict[str | None, dict[uuid.UUID, list[RequestProgress]]]


def _request_progress(
    session: Session, context: InspectionContext, found: Sequence[DocumentRequest]
) -> _Requests:
    live = [request for request in found if not request.withdrawn]
    ids = [request.id for request in live]
    documents, nil_returns = documents_for(session, ids), nil_returns_for(session, ids)
    titles = {category.key: category.title for category in context.theme.case_file_documents}
    by_child: dict[str | None, dict[uuid.UUID, list[RequestProgress]]] = {}
    for request in live:
        answers = answers_of(request, documents[request.id], nil_returns[request.id])
        progress = RequestProgress(
            request_id=request.id,
            kind=request.kind,
            title=request.title,
            item_number=request.item_number,
            due_at=aware(request.due_at) if request.due_at is not None else None,
            answered=answered_at(answers) is not None,
            items=[_item(request, answer, titles) for answer in answers],
        )
        agencies = by_child.setdefault(request.child_id, {})
        agencies.setdefault(request.addressee_organisation_id, []).append(progress)
    return _Requests(by_child)


def _agencies(
    asked: dict[uuid.UUID, list[RequestProgress]], names: dict[uuid.UUID, Organisation]
) -> list[AgencyProgress]:
    def name(organisation_id: uuid.UUID) -> str | None:
        organisation = names.get(organisation_id)
        return organisation.name if organisation is not None else None

    return [
        AgencyProgress(organisation_id=org_id, organisation_name=name(org_id), requests=listed)
        for org_id, listed in sorted(asked.items(), key=lambda pair: (name(pair[0]) or "", pair[0]))
    ]


def _evaluation(kind: str, row: Evaluation | None, org: Organisation | None) -> EvaluationProgress:
    return EvaluationProgress(
        kind=kind,
        organisation_id=row.organisation_id if row else (org.id if org else None),
        organisation_name=org.name if org else None,
        present=row is not None,
        version=row.version if row else None,
        late=row.late if row else None,
        updated_at=aware(row.created_at) if row else None,
    )


def _engagement(row: Engagement | None) -> EngagementProgress:
    if row is None:
        return EngagementProgress(recorded=False)
    return EngagementProgress(
        recorded=True,
        child_agreed=row.child_agreed,
        parent_agreed=row.parent_agreed,
        carer_agreed=row.carer_agreed,
        confirmed_in_writing_at=row.confirmed_in_writing_at,
    )


@dataclass(frozen=True)
class _ChildFacts:
    organisations: dict[uuid.UUID, Organisation]
    agencies: list[Organisation]
    evaluations: dict[str, list[Evaluation]]
    engagements: dict[str, Engagement]
    tracking: dict[str, int]


def _child(child_id: str, asked: _Requests, facts: _ChildFacts) -> ChildProgress:
    agencies = _agencies(asked.by_child.get(child_id, {}), facts.organisations)
    evaluations = facts.evaluations.get(child_id, [])
    joint = next((row for row in evaluations if row.kind == JOINT), None)
    own = {row.organisation_id: row for row in evaluations if row.kind != JOINT}
    return ChildProgress(
        child_id=child_id,
        complete=all(r.answered for agency in agencies for r in agency.requests),
        agencies=agencies,
        joint_evaluation=_evaluation(
            JOINT, joint, facts.organisations.get(joint.organisation_id) if joint else None
        ),
        single_agency_evaluations=[
            _evaluation(agency.kind.value, own.get(agency.id), agency) for agency in facts.agencies
        ],
        engagement=_engagement(facts.engagements.get(child_id)),
        tracking_records=facts.tracking.get(child_id, 0),
    )


def _facts(session: Session, inspection_id: uuid.UUID) -> _ChildFacts:
    members = [org for _, org in participants(session, [inspection_id])[inspection_id]]
    by_child: dict[str, list[Evaluation]] = {}
    for row in current_of_inspection(session, inspection_id):
        by_child.setdefault(row.child_id, []).append(row)
    return _ChildFacts(
        organisations={org.id: org for org in members},
        agencies=sorted(
            (org for org in members if org.kind in AGENCY_KINDS), key=lambda o: (o.name, o.id)
        ),
        evaluations=by_child,
        engagements=engagements(session, inspection_id),
        tracking=record_counts(session, inspection_id),
    )


def inspection_progress(session: Session, context: InspectionContext) -> InspectionProgress:
    """The whole inspection's progress on one page (inspectors only: the policy's)."""
    inspection = context.inspection
    tracked = tracked_children(session, inspection.id)
    found = requests.visible_requests(session, inspection, context.actor)
    asked = _request_progress(session, context, found)
    facts = _facts(session, inspection.id)
    children = [_child(child_id, asked, facts) for child_id in tracked]
    others: dict[uuid.UUID, list[RequestProgress]] = {}
    for child_id, agencies in asked.by_child.items():
        if child_id not in tracked:
            for org_id, listed in agencies.items():
                others.setdefault(org_id, []).extend(listed)
    statuses = [
        item.status
        for agencies in asked.by_child.values()
        for listed in agencies.values()
        for request in listed
        for item in request.items
    ]
    # What each tracked child's agencies have sent, and nil returns' reasons, are reads about
    # that child: each goes in the child's access log.
    for child_id in tracked:
        audit.record_read(
            session,
            context.actor,
            "progress.read",
            "child",
            child_id,
            inspection_id=inspection.id,
            child_id=child_id,
        )
    return InspectionProgress(
        inspection_id=inspection.id,
        tracked_children=children,
        other_requests=_agencies(others, facts.organisations),
        received=statuses.count(AnswerStatus.RECEIVED),
        nil_returns=statuses.count(AnswerStatus.NIL_RETURN),
        owed=statuses.count(AnswerStatus.OWED),
    )
