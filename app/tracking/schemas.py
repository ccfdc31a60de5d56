from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from app.core.moments import Instant
from app.core.text import MAX_TEXT, LongText

HeaderText = Annotated[str, StringConstraints(strict=True, max_length=MAX_TEXT)]


class QuestionSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: LongText = Field(description="The inspector's evaluative summary for the question")
    esn: list[StrictInt] = Field(
        default_factory=list,
        max_length=100,
        description="ESN numbers evidenced: the theme's esn_criteria or the framework's range",
    )


class TrackingWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    header: dict[str, HeaderText | StrictInt | None] = Field(
        default_factory=dict,
        max_length=50,
        description="Annex B header fields, keyed by the theme's `tracking.header_fields`",
        examples=[{"inspector": "A. Inspector", "child_age": 14}],
    )
    summaries: dict[str, QuestionSummary] = Field(
        default_factory=dict,
        max_length=100,
        description="One evaluative summary per `tracking.questions` key (partial is allowed)",
    )


class Author(BaseModel):
    client_id: uuid.UUID
    client_name: str
    organisation_id: uuid.UUID
    organisation_name: str


class TrackingRead(BaseModel):
    child_id: str
    author: Author
    version: int
    header: dict[str, str | int | None]
    summaries: dict[str, QuestionSummary]
    created_at: Instant
