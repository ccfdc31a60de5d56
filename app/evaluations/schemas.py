from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from app.core.moments import Instant
from app.core.text import Answer, LongText


class EvaluationWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Answer] = Field(
        max_length=100,
        description="One answer per question of the theme's `evaluation.questions` (every key)",
        examples=[{"referral_timely": "Yes: the referral was made the same day."}],
    )
    summary: LongText | None = Field(default=None, description="Overall summary (optional)")
    contributing_organisation_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=50,
        description="Joint evaluations only: each agency of the inspection that contributed",
    )


class EvaluationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    child_id: str
    kind: str = Field(description="`joint` or the writing agency's organisation kind")
    organisation_id: uuid.UUID = Field(description="Who wrote it (the local authority if joint)")
    version: int
    answers: dict[str, str]
    summary: str | None
    contributing_organisation_ids: list[uuid.UUID]
    created_at: Instant
    client_id: uuid.UUID
    due_at: Instant | None
    late: bool
