from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from app.core.moments import Instant
from app.document_requests.models import RequestKind
from app.documents.answers import AnswerStatus


class ItemProgress(BaseModel):
    """One document kind of a case-file request, or a request without kinds as a whole."""

    document_kind: str | None = Field(description="Null: the request as a whole")
    title: str | None = Field(description="The kind as the theme names it")
    status: AnswerStatus = Field(description="received, nil_return (none held) or owed")
    answered_at: Instant | None = Field(description="First answered (document or nil return)")
    late: bool = Field(description="Answered after the due time")
    document_id: uuid.UUID | None = Field(description="The latest document of the kind")
    nil_return_reason: str | None = None
    due_at: Instant | None = Field(description="When it is (or was) due")


class RequestProgress(BaseModel):
    request_id: uuid.UUID
    kind: RequestKind
    title: str
    item_number: str | None
    due_at: Instant | None
    answered: bool = Field(description="Every item received or answered with a nil return")
    items: list[ItemProgress]


class AgencyProgress(BaseModel):
    organisation_id: uuid.UUID
    organisation_name: str | None
    requests: list[RequestProgress]


class EvaluationProgress(BaseModel):
    kind: str = Field(description="joint, or the writing agency's kind")
    organisation_id: uuid.UUID | None = Field(description="The writer (null: none yet)")
    organisation_name: str | None = None
    present: bool
    version: int | None = None
    late: bool | None = None
    updated_at: Instant | None = None


class EngagementProgress(BaseModel):
    recorded: bool
    child_agreed: bool | None = None
    parent_agreed: bool | None = None
    carer_agreed: bool | None = None
    confirmed_in_writing_at: Instant | None = None


class ChildProgress(BaseModel):
    child_id: str
    complete: bool = Field(description="Every agency has answered every kind asked of it")
    agencies: list[AgencyProgress]
    joint_evaluation: EvaluationProgress
    single_agency_evaluations: list[EvaluationProgress] = Field(
        description="One per agency taking part: its own evaluation of the child, or not yet"
    )
    engagement: EngagementProgress
    tracking_records: int = Field(description="How many inspectors keep a record of the child")


class InspectionProgress(BaseModel):
    inspection_id: uuid.UUID
    tracked_children: list[ChildProgress]
    other_requests: list[AgencyProgress] = Field(
        description="Requests about no tracked child: the theme's information items, CQC's "
        "and the lead's, per agency"
    )
    received: int = Field(description="Items received, over the whole page")
    nil_returns: int
    owed: int
