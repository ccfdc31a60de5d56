from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class CqcRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation_id: uuid.UUID = Field(description="The health agency asked")
    title: str = Field(min_length=3, max_length=2000)
    child_id: str | None = Field(default=None, max_length=128)
    due_at: AwareDatetime
