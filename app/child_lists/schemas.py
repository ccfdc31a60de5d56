from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ListProblem(BaseModel):
    """One thing wrong (or worth a look) in a pushed list, located as the user sees it."""

    row: int | None = Field(description="Row number in the file as sent (heading rows counted)")
    column: str | None = Field(description="The heading as written (or the field key for JSON)")
    field: str | None = Field(description="The theme's field key")
    code: str
    message: str
    value: str | None = Field(description="The offending value, cut to 100 characters")
    severity: Literal["error", "warning"]


class ValidationReport(BaseModel):
    accepted: bool
    stored: bool
    rows: int
    errors: int
    warnings: int
    problems: list[ListProblem] = Field(description="At most 1,000; see the counts for the rest")
    problems_total: int


class ListVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    list_key: str
    number: int
    created_at: datetime
    client_id: uuid.UUID
    organisation_id: uuid.UUID
    media_type: str
    body_sha256: str
    row_count: int
    warning_count: int
    due_at: datetime | None
    late: bool


class ListVersionWithReport(ListVersionRead):
    warnings: list[ListProblem]


class PushResult(BaseModel):
    version: ListVersionRead | None = Field(description="Null for a dry run")
    report: ValidationReport


class ListRowRead(BaseModel):
    row_number: int
    child_id: str
    data: dict[str, Any]


class ListPage(BaseModel):
    list_key: str
    version: ListVersionRead
    items: list[ListRowRead]
    limit: int
    offset: int
    total: int
    next_offset: int | None


class ChildListRows(BaseModel):
    list_key: str
    version: int
    rows: list[ListRowRead]


class ChildRead(BaseModel):
    child_id: str
    selections: list[str] = Field(description="The selections that include this child")
    lists: list[ChildListRows]
