"""What the lead inspector selects (the domestic-abuse shortlist, the tracked children) and
which children each selection may take.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from app.themes.schema.base import FieldKey, Key, Text, ThemeModel
from app.themes.schema.rules import Condition


class Eligibility(ThemeModel):
    """Which children may be chosen: rows of some lists (or members of an earlier selection),
    optionally narrowed by any one of ``any_of`` and an age range."""

    from_lists: tuple[Key, ...] = ()
    from_selection: Key | None = None
    any_of: tuple[Condition, ...] = ()
    min_age: int | None = None
    max_age: int | None = None
    age_field: FieldKey = "age_years"

    @model_validator(mode="after")
    def _one_source(self) -> Eligibility:
        if bool(self.from_lists) == (self.from_selection is not None):
            raise ValueError("give either from_lists or from_selection")
        has_ages = (self.min_age, self.max_age) != (None, None)
        if self.from_selection is not None and (self.any_of or has_ages):
            raise ValueError("conditions and ages apply to from_lists only")
        return self


class SelectionSpec(ThemeModel):
    title: Text
    description: Text
    minimum: int = Field(ge=1)
    maximum: int = Field(ge=1)
    milestone: Key
    eligibility: Eligibility

    @model_validator(mode="after")
    def _bounds(self) -> SelectionSpec:
        if self.minimum > self.maximum:
            raise ValueError("maximum is below minimum")
        return self
