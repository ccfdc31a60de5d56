from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.core.moments import Instant
from app.core.text import visible_text

# As the themes' "Child Unique ID": one line, so it can name a child in a URL and a list block.
ChildId = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=128, strip_whitespace=True, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]


OverrideReason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=2000),
    AfterValidator(visible_text),
]


class SelectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    child_ids: list[ChildId] = Field(max_length=100, examples=[["C1001", "C1002"]])
    override_reason: OverrideReason | None = Field(
        default=None,
        description=(
            "Why the lead departs from the guidance where the theme leaves a rule to judgement "
            "(a count, the age band, the scope, 'from the shortlist'). Without it such a "
            "selection is refused (422 `needs_override`, each rule in `warnings`); with it the "
            "selection is stored with the reason and the rules overridden, and audited. Rules "
            "that protect the data (children distinct and on the inspection's lists) are never "
            "overridden."
        ),
        examples=["Only three children in the area are living with domestic abuse."],
    )


class RuleDeparture(BaseModel):
    """A rule of the theme's selection that a choice departs from."""

    rule: str = Field(description="The rule as the theme's selection names it", examples=["age"])
    code: str = Field(examples=["age_out_of_scope"])
    message: str
    child_ids: list[str] = Field(description="The children concerned; none for a count")
    paragraphs: list[int] = Field(description="Where the theme's guidance says so")


class ContextNoteRead(BaseModel):
    """A note of the council's on the area's context, which the lead weighs when selecting."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The document: GET /v1/documents/{id}/content")
    filename: str
    created_at: Instant


class SelectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    child_ids: list[str]
    version: int
    first_made_at: Instant
    changed_at: Instant
    changed_by_client_id: uuid.UUID
    override_reason: str | None = Field(
        default=None, description="The lead's reason for the rules overridden; inspectors only"
    )
    overrides: list[RuleDeparture] = Field(
        default_factory=list, description="The judgement rules the reason overrode"
    )
    context_notes: list[ContextNoteRead] = Field(
        default_factory=list,
        description=(
            "The council's notes on the area's context (MH para 36, DA para 16), sent to its "
            "context_note request; inspectors only"
        ),
    )
