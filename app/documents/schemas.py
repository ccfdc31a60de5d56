from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, StringConstraints

from app.core.moments import Instant
from app.core.text import visible_text

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
KIND_DESCRIPTION = (
    "On a case-file request, which of the kinds it covers (its `categories`) this is: "
    "required there, refused on a request without kinds. `document_kind` is taken as "
    "another name."
)


def kind_field(description: str = KIND_DESCRIPTION) -> Any:
    return Field(
        default=None,
        min_length=1,
        max_length=64,
        validation_alias=AliasChoices("kind", "document_kind"),
        description=description,
    )


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
    created_at: Instant
    late: bool
    document_kind: str | None = Field(
        description="Which kind of the case-file request this is; null on a request without "
        "kinds, and for a case-file document sent before kinds were asked (it answers none)"
    )
    supersedes_id: uuid.UUID | None = Field(
        description="The previous version: the latest earlier document of the same kind"
    )


class UploadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(gt=0, description="Bytes")
    sha256: Sha256
    document_kind: str | None = kind_field()


class NilReturnCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
        AfterValidator(visible_text),
    ] = Field(description="Why nothing is held: shown to the inspectors and the agency")
    document_kind: str | None = kind_field(
        "On a case-file request, the kind held none of (one nil return per kind): required "
        "there, refused on a request without kinds. `document_kind` is taken as another name."
    )


class NilReturnRead(BaseModel):
    """An answer of "none held", to a request or one kind of it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    inspection_id: uuid.UUID
    request_id: uuid.UUID
    organisation_id: uuid.UUID
    client_id: uuid.UUID = Field(description="Who recorded it")
    document_kind: str | None
    reason: str
    created_at: Instant
    late: bool
    supersedes_id: uuid.UUID | None = Field(description="The nil return of the kind it replaced")
    withdrawn_at: Instant | None = Field(
        description="When it stopped standing: a document of the kind came, or a nil return "
        "replaced it"
    )
    withdrawn_by_document_id: uuid.UUID | None = Field(
        description="The document of the kind that withdrew it"
    )


class UploadPart(BaseModel):
    part_number: int
    size: int = Field(description="The part's exact size: any other is refused")
    method: Literal["PUT"] = "PUT"
    url: str = Field(description="Presigned store URL, or the API's own part endpoint")
    expires_at: Instant = Field(description="After this the URL takes no bytes (15 minutes)")


class UploadRead(BaseModel):
    id: uuid.UUID = Field(description="The upload's id, as in `/v1/uploads/{upload_id}`")
    part_size: int
    parts: list[UploadPart]
    expires_at: Instant
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
