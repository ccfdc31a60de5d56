from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# As the themes' "Child Unique ID": one line, so it can name a child in a URL and a list block.
ChildId = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=128, strip_whitespace=True, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]


class SelectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    child_ids: list[ChildId] = Field(max_length=100, examples=[["C1001", "C1002"]])


class SelectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    child_ids: list[str]
    version: int
    first_made_at: datetime
    changed_at: datetime
    changed_by_client_id: uuid.UUID
