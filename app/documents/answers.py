"""What each request has had for each kind it covers: a document, a nil return, or nothing.

A case-file request covers its ``categories``; any other request is one whole (its kind is
None). A kind is answered by a document of that kind or a nil return standing for it, and
stays answered: a nil return is withdrawn only by a document of its kind or replaced by
another nil return, and documents are never taken back. So the time a kind was first
answered is the earliest of its documents and nil returns, and a request is answered once
every kind it covers is. A case-file document of no kind (sent before kinds were asked)
answers none of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.core.database import as_utc, aware
from app.document_requests.models import DocumentRequest, RequestKind
from app.documents.models import Document, NilReturn


class AnswerStatus(StrEnum):
    RECEIVED = "received"  # a document of the kind
    NIL_RETURN = "nil_return"  # "none held", with a reason
    OWED = "owed"  # nothing yet


@dataclass(frozen=True)
class KindAnswer:
    kind: str | None  # None: the request as a whole
    status: AnswerStatus
    answered_at: datetime | None  # first answered, by a document or a nil return
    document: Document | None  # the latest document of the kind
    nil_return: NilReturn | None  # the nil return standing for it, when no document came


def kinds_of(request: DocumentRequest) -> list[str | None]:
    return list(request.categories) or [None]


def answers_of(
    request: DocumentRequest,
    documents: Sequence[Document],
    nil_returns: Sequence[NilReturn],
) -> list[KindAnswer]:
    """Each kind the request covers, in the theme's order, and how it stands."""
    answers = []
    for kind in kinds_of(request):
        sent = [d for d in documents if d.document_kind == kind]
        said = [n for n in nil_returns if n.document_kind == kind]
        moments = [d.created_at for d in sent] + [n.created_at for n in said]
        first = min((aware(moment) for moment in moments), default=None)
        standing = [n for n in said if n.withdrawn_at is None]
        if sent:
            latest = max(sent, key=lambda d: d.created_at)
            answers.append(KindAnswer(kind, AnswerStatus.RECEIVED, first, latest, None))
        elif standing:
            nil = max(standing, key=lambda n: n.created_at)
            answers.append(KindAnswer(kind, AnswerStatus.NIL_RETURN, first, None, nil))
        else:
            answers.append(KindAnswer(kind, AnswerStatus.OWED, None, None, None))
    return answers


def answered_at(answers: Sequence[KindAnswer]) -> datetime | None:
    """When the last of the request's kinds was answered; None while one is owed."""
    if any(answer.status is AnswerStatus.OWED for answer in answers):
        return None
    return max(answer.answered_at for answer in answers if answer.answered_at is not None)


@dataclass(frozen=True)
class AnswerTimes:
    """The live requests of one kind of an inspection, for its milestone."""

    answered: dict[uuid.UUID, datetime | None]  # when each was wholly answered (None: not yet)
    nil_returned: int  # kinds (or whole requests) standing answered "none held"


def answer_times(
    session: Session, inspection_id: uuid.UUID, kind: RequestKind
) -> AnswerTimes | None:
    """When each live request of a kind was wholly answered; None if there are none."""
    requests = (
        session.execute(
            select(DocumentRequest).where(
                DocumentRequest.inspection_id == inspection_id,
                DocumentRequest.kind == kind,
                DocumentRequest.withdrawn.is_(False),
            )
        )
        .scalars()
        .all()
    )
    if not requests:
        return None
    ids = [request.id for request in requests]
    sent = _firsts(session, Document, ids)
    said = _firsts(session, NilReturn, ids)
    standing = _standing_nil_returns(session, ids)
    answered: dict[uuid.UUID, datetime | None] = {}
    nil_returned = 0
    for request in requests:
        times = []
        for covered in kinds_of(request):
            key = (request.id, covered)
            moments = [m for m in (sent.get(key), said.get(key)) if m is not None]
            times.append(min(moments) if moments else None)
            if key in standing and key not in sent:
                nil_returned += 1
        complete = all(moment is not None for moment in times)
        answered[request.id] = max(t for t in times if t is not None) if complete else None
    return AnswerTimes(answered, nil_returned)


Key = tuple[uuid.UUID, str | None]


def _firsts(session: Session, model: Any, ids: list[uuid.UUID]) -> dict[Key, datetime]:
    rows = session.execute(
        select(model.request_id, model.document_kind, func.min(model.created_at))
        .where(model.request_id.in_(ids))
        .group_by(model.request_id, model.document_kind)
    ).all()
    return {(row[0], row[1]): moment for row in rows if (moment := as_utc(row[2])) is not None}


def _standing_nil_returns(session: Session, ids: list[uuid.UUID]) -> set[Key]:
    standing = func.sum(case((NilReturn.withdrawn_at.is_(None), 1), else_=0))
    rows = session.execute(
        select(NilReturn.request_id, NilReturn.document_kind)
        .where(NilReturn.request_id.in_(ids))
        .group_by(NilReturn.request_id, NilReturn.document_kind)
        .having(standing > 0)
    ).all()
    return {(row[0], row[1]) for row in rows}
