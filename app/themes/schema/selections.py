"""What the lead inspector selects (the domestic-abuse shortlist, the tracked children), which
children each selection may take, and how firmly each of its rules holds.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from app.themes.schema.base import FieldKey, Key, Text, ThemeModel
from app.themes.schema.rules import Condition

# The rules a selection is checked against, as its spec names them:
# - distinct: no child chosen twice; on_lists: every child is on the inspection's lists named
#   (they protect the data, so no reason lifts them);
# - count: minimum..maximum children; age: within min_age..max_age on some list row;
#   scope: some list row meets one of ``any_of``; from_selection: each child is in the earlier
#   selection named (the guidance leaves these to the lead, where the theme says so).
SelectionRuleKey = Literal["distinct", "on_lists", "count", "age", "scope", "from_selection"]


class JudgementRule(ThemeModel):
    """How one rule of the selection holds. ``judgement``: the guidance leaves it to the lead
    ("will select", "will focus on"), so a selection that departs from it is refused until the
    lead gives a reason, which is stored with the selection and audited. ``error``: refused
    whatever the reason."""

    severity: Literal["judgement", "error"] = "error"
    paragraphs: tuple[int, ...] = Field(default=(), description="Where the guidance says so")


class DataRule(ThemeModel):
    """A rule that protects the data (every child distinct, on this inspection's lists):
    always an error, named here with the guidance that asks for it."""

    severity: Literal["error"] = "error"
    paragraphs: tuple[int, ...] = Field(default=(), description="Where the guidance says so")


class SelectionRules(ThemeModel):
    """Each rule of a selection, with how it holds. A rule the theme does not mention is an
    error, as every rule was before the lead could override one."""

    distinct: DataRule = DataRule()
    on_lists: DataRule = DataRule()
    count: JudgementRule = JudgementRule()
    age: JudgementRule = JudgementRule()
    scope: JudgementRule = JudgementRule()
    from_selection: JudgementRule = JudgementRule()

    def held(self, rule: SelectionRuleKey) -> JudgementRule | DataRule:
        held: JudgementRule | DataRule = getattr(self, rule)
        return held


class Eligibility(ThemeModel):
    """Which children may be chosen: rows of some lists (by default those of the earlier
    selection named in ``from_selection``), members of that earlier selection, with a row
    meeting any one of ``any_of`` and an age within range."""

    from_lists: tuple[Key, ...] = ()
    from_selection: Key | None = None
    any_of: tuple[Condition, ...] = ()
    min_age: int | None = None
    max_age: int | None = None
    age_field: FieldKey = "age_years"

    @model_validator(mode="after")
    def _a_source(self) -> Eligibility:
        if not self.from_lists and self.from_selection is None:
            raise ValueError("give from_lists, from_selection or both")
        has_ages = (self.min_age, self.max_age) != (None, None)
        if not self.from_lists and (self.any_of or has_ages):
            # Checked against the lists named, so that a theme's misspelt field is caught.
            raise ValueError("conditions and ages apply to from_lists only")
        return self


class SelectionSpec(ThemeModel):
    title: Text
    description: Text
    minimum: int = Field(ge=1)
    maximum: int = Field(ge=1)
    milestone: Key
    eligibility: Eligibility
    rules: SelectionRules = SelectionRules()

    @model_validator(mode="after")
    def _bounds(self) -> SelectionSpec:
        if self.minimum > self.maximum:
            raise ValueError("maximum is below minimum")
        return self
