"""Read-only questions the live schedule asks of requests and documents: when each was
first answered, when CQC first asked."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.database import as_utc
from app.document_requests.models import DocumentRequest, RequestKind
from app.documents.models import Document


def first_answers(
    session: Session, inspection_id: uuid.UUID, kind: RequestKind
) -> dict[uuid.UUID, datetime | None] | None:
    """When each live request of a kind was first answered (None: not yet); None if none."""
    requests = (
        session.execute(
            select(DocumentRequest.id).where(
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
    rows = session.execute(
        select(Document.request_id, func.min(Document.created_at))
        .where(Document.request_id.in_(requests))
        .group_by(Document.request_id)
    ).all()
    firsts: dict[uuid.UUID, datetime | None] = {row[0]: as_utc(row[1]) for row in rows}
    return {request_id: firsts.get(request_id) for request_id in requests}


def first_cqc_request(session: Session, inspection_id: uuid.UUID) -> datetime | None:
    moment = session.execute(
        select(func.min(DocumentRequest.created_at)).where(
            DocumentRequest.inspection_id == inspection_id,
            DocumentRequest.kind == RequestKind.CQC,
        )
    ).scalar_one_or_none()
    return as_utc(moment)
