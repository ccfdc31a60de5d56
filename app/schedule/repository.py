"""Read-only questions the live schedule asks of requests: when CQC first asked. (When
requests were answered is the documents domain's: ``app.documents.answers``.)"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.database import as_utc
from app.document_requests.models import DocumentRequest, RequestKind


def first_cqc_request(session: Session, inspection_id: uuid.UUID) -> datetime | None:
    moment = session.execute(
        select(func.min(DocumentRequest.created_at)).where(
            DocumentRequest.inspection_id == inspection_id,
            DocumentRequest.kind == RequestKind.CQC,
        )
    ).scalar_one_or_none()
    return as_utc(moment)
