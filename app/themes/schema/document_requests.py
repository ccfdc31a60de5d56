"""What a theme asks of agencies: the case-file documents per tracked child and the numbered
"other information" items (read by ``app.document_requests``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from app.themes.schema.base import AgencyKind, Key, Text, ThemeModel, location, raise_if_any


class DocumentCategory(ThemeModel):
    key: Key
    title: Text
    provided_by: tuple[AgencyKind, ...] = Field(min_length=1)
    sub_items: tuple[Text, ...] = ()
    note: str | None = None


class InformationItem(ThemeModel):
    number: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+$")]
    text: Text
    note: str | None = None
    # Asked only when the lead inspector asks for it ("as requested by the lead inspector",
    # or during fieldwork): never derived for everyone, made by the lead naming the item.
    on_request: bool = False


class InformationSection(ThemeModel):
    number: int = Field(ge=1)
    title: Text
    addressed_to: tuple[AgencyKind, ...] = Field(min_length=1)
    items: tuple[InformationItem, ...] = Field(min_length=1)

    @property
    def partnership(self) -> bool:
        """Asked of several kinds of agency together (the safeguarding partners, "the local
        agencies"): one request any of them may answer, not one per agency."""
        return len(self.addressed_to) > 1

    @model_validator(mode="after")
    def _numbered_in_section(self) -> InformationSection:
        raise_if_any(
            (location("items", i), f"item {item.number} is not numbered in section {self.number}")
            for i, item in enumerate(self.items)
            if item.number.split(".")[0] != str(self.number)
        )
        return self
