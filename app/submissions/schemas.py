from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from app.document_requests.models import RequestKind
from app.documents.schemas import DocumentRead


class RequestState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    LATE = "late"
    WITHDRAWN = "withdrawn"


class RequestRead(BaseModel):
    id: uuid.UUID
    kind: RequestKind
    title: str
    addressee_organisation_id: uuid.UUID
    child_id: str | None
    item_number: str | None
    categories: list[str] = Field(description="Case-file document categories asked for")
    due_at: datetime | None
    state: RequestState
    documents: list[DocumentRead]


class SubmissionRow(BaseModel):
    organisation_id: uuid.UUID
    organisation_name: str
    kind: str
    list_versions: list[dict[str, object]]
    documents: list[DocumentRead]
    open_requests: list[RequestRead]
