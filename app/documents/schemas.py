from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    inspection_id: uuid.UUID
    request_id: uuid.UUID
    organisation_id: uuid.UUID
    client_id: uuid.UUID = Field(description="Who uploaded it")
    filename: str = Field(description="The name as sent; shown, never used as a path")
    size: int
    sha256: str
    media_type: str = Field(description="Sniffed from the bytes, not taken from the client")
    created_at: datetime
    late: bool
    supersedes_id: uuid.UUID | None


class UploadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(gt=0, description="Bytes")
    sha256: Sha256


class UploadPart(BaseModel):
    part_number: int
    size: int = Field(description="The part's exact size: any other is refused")
    method: Literal["PUT"] = "PUT"
    url: str = Field(description="Presigned store URL, or the API's own part endpoint")
    expires_at: datetime = Field(description="After this the URL takes no bytes (15 minutes)")


class UploadRead(BaseModel):
    upload_id: uuid.UUID
    part_size: int
    parts: list[UploadPart]
    expires_at: datetime
    complete_url: str


class PartDone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part_number: int = Field(ge=1, le=10_000)
    etag: str = Field(min_length=1, max_length=200)


class UploadComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[PartDone] = Field(min_length=1, max_length=10_000)


class PartStored(BaseModel):
    part_number: int
    etag: str
