"""Joint and single-agency evaluations of tracked children: who may write which, and versions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.auth.principal import Principal
from app.core.database import utcnow
from app.core.errors import Conflict, Forbidden, InvalidContent, NotFound, ProblemItem
from app.core.preconditions import check_version
from app.deadlines.service import due_at_for
from app.evaluations import repository
from app.evaluations.models import JOINT, Evaluation
from app.evaluations.schemas import EvaluationWrite
from app.events import audiences as events
from app.inspections.context import InspectionContext
from app.inspections.models import Inspection
from app.organisations.kinds import AGENCY_KINDS
from app.selections.service import require_tracked_child
from app.themes.schema.theme import Theme

KINDS = frozenset({JOINT, *(kind.value for kind in AGENCY_KINDS)})


def require_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotFound(f"No evaluation kind '{kind}': use 'joint' or an agency's kind.")


def check_may_write(principal: Principal, inspection: Inspection, kind: str) -> None:
    if kind == JOINT:
        if principal.organisation_id != inspection.local_authority_id:
            raise Forbidden(
                "Only the inspection's local authority writes the joint evaluation, "
                "on behalf of the partners.",
                code="not_local_authority",
            )
    elif kind != principal.organisation_kind.value:
        raise Forbidden(
            "An agency writes only its own single-agency evaluation "
            f"(kind '{principal.organisation_kind.value}').",
            code="not_own_evaluation",
        )


def _contributor_problems(
    session: Session, inspection: Inspection, kind: str, ids: Sequence[uuid.UUID]
) -> list[ProblemItem]:
    field = "body.contributing_organisation_ids"
    if kind != JOINT:
        if not ids:
            return []
        message = "only a joint evaluation names contributing agencies"
        return [ProblemItem(field=field, code="not_joint", message=message)]
    if not ids:
        message = "name each agency that contributed to the joint evaluation"
        return [ProblemItem(field=field, code="contributors_missing", message=message)]
    agencies = repository.participating_agencies(session, inspection.id)
    return [
        ProblemItem(
            field=f"{field}.{index}",
            code="not_a_participating_agency",
            message="not an agency taking part in this inspection",
            value=str(organisation_id),
        )
        for index, organisation_id in enumerate(ids)
        if organisation_id not in agencies
    ]


def check_body(
    session: Session, inspection: Inspection, theme: Theme, kind: str, body: EvaluationWrite
) -> None:
    """422 naming every unknown or missing answer and every wrong contributor."""
    questions = theme.evaluation.questions
    problems = [
        ProblemItem(
            field=f"body.answers.{key}"[:200],
            code="unknown_question",
            message=f"the theme '{theme.key}' has no evaluation question with this key",
        )
        for key in body.answers
        if key not in questions
    ]
    problems += [
        ProblemItem(field=f"body.answers.{key}", code="answer_missing", message="answer it")
        for key in questions
        if key not in body.answers
    ]
    problems += _contributor_problems(session, inspection, kind, body.contributing_organisation_ids)
    if problems:
        raise InvalidContent(_summary(problems), code="invalid_evaluation", errors=problems)


_WRONG = {
    "unknown_question": "answers: the theme's evaluation questions are not these",
    "answer_missing": "answers: a question of the theme is not answered",
    "contributors_missing": "contributing_organisation_ids is missing: a joint evaluation "
    "names each agency that contributed",
    "not_joint": "contributing_organisation_ids: only a joint evaluation names contributors",
    "not_a_participating_agency": "contributing_organisation_ids: names an organisation that "
    "is not an agency taking part",
}


def _summary(problems: list[ProblemItem]) -> str:
    """The detail line names each field at fault and how (``errors`` has every item)."""
    said = dict.fromkeys(_WRONG.get(p.code) or str(p.field or p.code) for p in problems)
    return "The evaluation was not stored: " + "; ".join(said) + "."


def _writer(principal: Principal, inspection: Inspection, kind: str) -> uuid.UUID:
    # The joint evaluation is the partnership's one record, whoever in the LA writes it.
    return inspection.local_authority_id if kind == JOINT else principal.organisation_id


@dataclass(frozen=True)
class _NewEvaluation:
    inspection: Inspection
    child_id: str
    kind: str
    principal: Principal
    body: EvaluationWrite
    if_match: int | None
    due_at: datetime | None


def _due_at(session: Session, context: InspectionContext) -> datetime | None:
    """The due time of the milestone the theme meets with evaluations (the late flag's bar)."""
    milestone = context.theme.milestone_satisfied_by("evaluations_for_tracked_children")
    if milestone is None:
        return None
    return due_at_for(session, context.inspection, context.theme, milestone.key, context.clock)


def write_evaluation(
    session: Session,
    context: InspectionContext,
    child_id: str,
    kind: str,
    body: EvaluationWrite,
    if_match: int | None,
) -> Evaluation:
    """The next version of the joint or the caller's own evaluation of a tracked child."""
    inspection, principal = context.inspection, context.actor
    require_kind(kind)
    require_tracked_child(session, inspection.id, child_id)
    check_may_write(principal, inspection, kind)
    check_body(session, inspection, context.theme, kind, body)
    new = _NewEvaluation(
        inspection, child_id, kind, principal, body, if_match, _due_at(session, context)
    )
    row = _save(session, new)
    audit.record(
        session,
        principal,
        "evaluation.written",
        "evaluation",
        row.id,
        inspection_id=inspection.id,
        child_id=child_id,
        detail={"kind": kind, "version": row.version, "late": row.late},
    )
    events.evaluation_saved(session, inspection.id, row.id)
    return row


def _save(session: Session, new: _NewEvaluation) -> Evaluation:
    """Add the next version; 412 when If-Match names one that is no longer current."""
    writer = _writer(new.principal, new.inspection, new.kind)
    current = repository.current_version_number(
        session, new.inspection.id, new.child_id, new.kind, writer
    )
    check_version(current, new.if_match, f"{new.kind} evaluation")
    now = utcnow()
    row = Evaluation(
        inspection_id=new.inspection.id,
        child_id=new.child_id,
        kind=new.kind,
        organisation_id=writer,
        version=current + 1,
        answers=dict(new.body.answers),
        summary=new.body.summary or None,
        contributing_organisation_ids=[str(i) for i in new.body.contributing_organisation_ids],
        created_at=now,
        client_id=new.principal.client_id,
        due_at=new.due_at,
        late=new.due_at is not None and now > new.due_at,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            "Another version was stored at the same moment; read it and retry.",
            code="concurrent_write",
        ) from None
    return row


def _visible(principal: Principal, row: Evaluation) -> bool:
    """Inspectors read all; an agency reads the joint evaluation and its own."""
    if principal.is_inspector:
        return True
    return row.kind == JOINT or row.organisation_id == principal.organisation_id


def current_evaluations(
    session: Session, principal: Principal, inspection_id: uuid.UUID, child_id: str
) -> list[Evaluation]:
    """The current version of every evaluation of the child the caller may read."""
    rows = repository.current_evaluations(session, inspection_id, child_id)
    return [row for row in rows if _visible(principal, row)]


def _find_evaluation(
    session: Session,
    principal: Principal,
    inspection_id: uuid.UUID,
    child_id: str,
    kind: str,
    organisation_id: uuid.UUID | None,
    version: int | None,
) -> Evaluation:
    """One evaluation (current, or the version asked for); another agency's answers 404."""
    rows = repository.versions_of_kind(
        session, inspection_id, child_id, kind, organisation_id, version
    )
    latest = {row.organisation_id: row for row in rows if _visible(principal, row)}
    if not latest:
        raise NotFound(f"No {kind} evaluation of this child that the caller may read.")
    if len(latest) > 1:
        raise InvalidContent(
            f"Several organisations of kind '{kind}' have evaluated this child; name one.",
            code="organisation_needed",
            errors=[
                ProblemItem(
                    field="query.organisation_id",
                    code="organisation_needed",
                    message="one of: " + ", ".join(sorted(str(o) for o in latest)),
                )
            ],
        )
    return next(iter(latest.values()))


def read_evaluation(
    session: Session,
    context: InspectionContext,
    child_id: str,
    kind: str,
    organisation_id: uuid.UUID | None,
    version: int | None,
) -> Evaluation:
    """One evaluation of a tracked child the caller may read; every read is audited."""
    require_kind(kind)
    require_tracked_child(session, context.inspection.id, child_id)
    principal = context.actor
    row = _find_evaluation(
        session, principal, context.inspection.id, child_id, kind, organisation_id, version
    )
    audit.record_read(
        session,
        principal,
        "evaluation.read",
        "evaluation",
        row.id,
        inspection_id=context.inspection.id,
        child_id=child_id,
        detail={"kind": kind, "version": row.version},
    )
    return row


def list_child_evaluations(
    session: Session, context: InspectionContext, child_id: str
) -> list[Evaluation]:
    """The current evaluations of a tracked child the caller may read; audited."""
    require_tracked_child(session, context.inspection.id, child_id)
    rows = current_evaluations(session, context.actor, context.inspection.id, child_id)
    audit.record(
        session,
        context.principal,
        "evaluations.listed",
        "child",
        child_id,
        inspection_id=context.inspection.id,
        child_id=child_id,
        detail={"evaluations": [f"{row.kind}:{row.version}" for row in rows]},
    )
    return rows
