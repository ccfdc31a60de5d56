from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.moments import Moment


class RequestCreate(BaseModel):
    """The lead asks any agency taking part (title, or an on-request item of the theme by its
    number); CQC asks health agencies (title). Several addressees make one request that any
    of them may answer."""

    model_config = ConfigDict(extra="forbid")

    organisation_id: uuid.UUID | None = Field(default=None, description="The agency asked")
    organisation_ids: list[uuid.UUID] | None = Field(
        default=None, min_length=1, max_length=32, description="The agencies asked (any answers)"
    )
    title: str | None = Field(default=None, min_length=3, max_length=2000)
    detail: str | None = Field(default=None, max_length=20000)
    child_id: str | None = Field(default=None, max_length=128, description="A tracked child")
    item_number: str | None = Field(
        default=None,
        pattern=r"^[0-9]+\.[0-9]+$",
        description="The lead only: an item the theme asks only on request (e.g. 2.3)",
    )
    due_at: Moment

    @model_validator(mode="after")
    def _asks_someone_something(self) -> RequestCreate:
        if (self.organisation_id is None) == (self.organisation_ids is None):
            raise ValueError("name the agency asked: organisation_id or organisation_ids")
        if self.title is None and self.item_number is None:
            raise ValueError("say what is asked: title, or item_number")
        return self

    @property
    def addressees(self) -> list[uuid.UUID]:
        return self.organisation_ids or ([self.organisation_id] if self.organisation_id else [])
