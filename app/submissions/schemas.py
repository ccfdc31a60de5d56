from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, Field

from app.core.moments import Instant
from app.document_requests.models import RequestKind
from app.documents.answers import AnswerStatus
from app.documents.schemas import DocumentRead, NilReturnRead


class RequestState(StrEnum):
    OPEN = "open"  # nothing answered yet
    PARTLY_ANSWERED = "partly_answered"  # some of its kinds answered, some owed
    ANSWERED = "answered"  # every kind it covers has a document or a nil return
    LATE = "late"  # answered, the last kind after the due time
    WITHDRAWN = "withdrawn"


class KindAnswerRead(BaseModel):
    """How one kind a request covers stands (a request without kinds has one, kind null)."""

    document_kind: str | None = Field(description="Null: the request as a whole")
    title: str | None = Field(description="The kind as the theme names it")
    status: AnswerStatus = Field(
        description="received (a document), nil_return (none held) or owed"
    )
    answered_at: Instant | None = Field(
        description="When the kind was first answered, by a document or a nil return"
    )
    late: bool = Field(description="Answered after the request's due time")
    document_id: uuid.UUID | None = Field(description="The latest document of the kind")
    document_received_at: Instant | None = None
    nil_return_id: uuid.UUID | None = Field(description="The nil return standing for the kind")
    nil_return_reason: str | None = None
    answered_by_organisation_id: uuid.UUID | None = Field(
        default=None,
        description="Who answered it (a request of several addressees: any one of them)",
    )


class RequestRead(BaseModel):
    id: uuid.UUID
    kind: RequestKind = Field(
        description="case_file and information_item: derived from the theme (or an item the "
        "lead asked for); lead_request: the lead's own; cqc: CQC's"
    )
    title: str
    detail: str | None = None
    addressee_organisation_id: uuid.UUID = Field(description="The first addressee")
    addressee_organisation_ids: list[uuid.UUID] = Field(
        description="Every organisation asked (an item of the partnership: several, any of "
        "which answers it for all)"
    )
    child_id: str | None
    item_number: str | None
    categories: list[str] = Field(description="Case-file document kinds asked for")
    due_at: Instant | None
    state: RequestState
    answers: list[KindAnswerRead] = Field(
        description="Per kind the request covers: received, nil return (with its reason) or owed"
    )
    documents: list[DocumentRead] = Field(
        description="Its documents (an agency: those it sent; another addressee's answer shows "
        "in answers, by whom)"
    )
    nil_returns: list[NilReturnRead] = Field(
        description="Every nil return, oldest first; withdrawn ones say when and by what"
    )


class SubmissionRow(BaseModel):
    organisation_id: uuid.UUID
    organisation_name: str
    kind: str
    list_versions: list[dict[str, object]]
    documents: list[DocumentRead]
    nil_returns: list[NilReturnRead]
    open_requests: list[RequestRead] = Field(
        description="Requests with a kind still owed (open or partly answered)"
    )
