"""The checks a theme declares on a list's rows (``lists[n].rules``), compiled to polars checks
by ``app.child_lists.parsing.validation``; ``Condition`` is also how a selection narrows its
eligible children.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt, StrictStr, model_validator

from app.themes.schema.base import FieldKey, Key, Text, ThemeModel

Severity = Literal["error", "warning"]


class Condition(ThemeModel):
    """A test on one field of a row: equal to a value, given at all, or within a range."""

    field: FieldKey
    equals: StrictStr | StrictInt | None = None
    present: bool | None = None
    at_least: int | None = None
    at_most: int | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [
            self.equals is not None,
            self.present is not None,
            self.at_least is not None or self.at_most is not None,
        ]
        if sum(tests) != 1:
            raise ValueError("give exactly one of: equals, present, at_least/at_most")
        return self


class _Rule(ThemeModel):
    severity: Severity
    message: Text

    def fields_used(self) -> tuple[str, ...]:
        return ()

    def date_fields(self) -> tuple[str, ...]:
        """Fields this rule can only apply to if they are dates."""
        return ()

    def integer_fields(self) -> tuple[str, ...]:
        return ()

    def conditions(self) -> tuple[Condition, ...]:
        return ()

    def selection_used(self) -> str | None:
        return None


class OnlyForAges(_Rule):
    """Values in ``fields`` are expected only for children aged min_age..max_age."""

    kind: Literal["only_for_ages"]
    fields: tuple[FieldKey, ...] = Field(min_length=1)
    min_age: int
    max_age: int
    age_field: FieldKey = "age_years"

    def fields_used(self) -> tuple[str, ...]:
        return (*self.fields, self.age_field)

    def integer_fields(self) -> tuple[str, ...]:
        return (self.age_field,)


class RequiredWhen(_Rule):
    """``fields`` must be given when any condition in ``when`` holds, on rows where every
    condition in ``only_where`` holds too (a blank field there does not excuse the row: the
    requirement is lifted only where the row shows it does not apply)."""

    kind: Literal["required_when"]
    fields: tuple[FieldKey, ...] = Field(min_length=1)
    when: tuple[Condition, ...] = Field(min_length=1)
    only_where: tuple[Condition, ...] = ()

    def fields_used(self) -> tuple[str, ...]:
        return (*self.fields, *(c.field for c in self.conditions()))

    def conditions(self) -> tuple[Condition, ...]:
        return (*self.when, *self.only_where)


class BlankWhen(_Rule):
    """``fields`` must be blank when any condition in ``when`` holds."""

    kind: Literal["blank_when"]
    fields: tuple[FieldKey, ...] = Field(min_length=1)
    when: tuple[Condition, ...] = Field(min_length=1)

    def fields_used(self) -> tuple[str, ...]:
        return (*self.fields, *(c.field for c in self.when))

    def conditions(self) -> tuple[Condition, ...]:
        return self.when


class BlankUnless(_Rule):
    """``fields`` must be blank unless some condition in ``unless`` holds."""

    kind: Literal["blank_unless"]
    fields: tuple[FieldKey, ...] = Field(min_length=1)
    unless: tuple[Condition, ...] = Field(min_length=1)

    def fields_used(self) -> tuple[str, ...]:
        return (*self.fields, *(c.field for c in self.unless))

    def conditions(self) -> tuple[Condition, ...]:
        return self.unless


class AllOrNone(_Rule):
    """Either every one of ``fields`` is given or none is."""

    kind: Literal["all_or_none"]
    fields: tuple[FieldKey, ...] = Field(min_length=2)

    def fields_used(self) -> tuple[str, ...]:
        return self.fields


class DateOrder(_Rule):
    """``earlier`` <= ``later`` when both are given."""

    kind: Literal["date_order"]
    earlier: FieldKey
    later: FieldKey

    def fields_used(self) -> tuple[str, ...]:
        return (self.earlier, self.later)

    def date_fields(self) -> tuple[str, ...]:
        return (self.earlier, self.later)


class NotInFuture(_Rule):
    """Dates may not be after the day the list is received."""

    kind: Literal["not_in_future"]
    fields: tuple[FieldKey, ...] = Field(min_length=1)

    def fields_used(self) -> tuple[str, ...]:
        return self.fields

    def date_fields(self) -> tuple[str, ...]:
        return self.fields


class OlderThan(_Rule):
    """Flags a date more than ``days`` before the day the list is received."""

    kind: Literal["older_than"]
    field: FieldKey
    days: int = Field(ge=1)

    def fields_used(self) -> tuple[str, ...]:
        return (self.field,)

    def date_fields(self) -> tuple[str, ...]:
        return (self.field,)


class WithinPeriod(_Rule):
    """Flags a row none of whose ``fields`` falls in the list's look-back window (its
    ``period_months`` before the day the list is received), though one of them is given: a
    contact of 2024 in a list of the last three months. Blank dates say nothing (an open plan
    has no end date), so a row with all of them blank is not flagged."""

    kind: Literal["within_period"]
    fields: tuple[FieldKey, ...] = Field(min_length=1)

    def fields_used(self) -> tuple[str, ...]:
        return self.fields

    def date_fields(self) -> tuple[str, ...]:
        return self.fields


class Unique(_Rule):
    """No two rows share the same values of ``fields``."""

    kind: Literal["unique"]
    fields: tuple[FieldKey, ...] = Field(min_length=1)

    def fields_used(self) -> tuple[str, ...]:
        return self.fields


class SameForChild(_Rule):
    """Lists with a row per event repeat some per-child values: they must agree on every row."""

    kind: Literal["same_for_child"]
    fields: tuple[FieldKey, ...] = Field(min_length=1)

    def fields_used(self) -> tuple[str, ...]:
        return self.fields


class AgeMatchesBirthDate(_Rule):
    """Age is whole years at the last birthday before the list is received; unborn children
    carry ``unborn_age`` and an expected date of birth."""

    kind: Literal["age_matches_birth_date"]
    age_field: FieldKey = "age_years"
    birth_date_field: FieldKey = "date_of_birth"
    unborn_age: int = -1

    def fields_used(self) -> tuple[str, ...]:
        return (self.age_field, self.birth_date_field)

    def date_fields(self) -> tuple[str, ...]:
        return (self.birth_date_field,)

    def integer_fields(self) -> tuple[str, ...]:
        return (self.age_field,)


class RowCount(_Rule):
    """The number of rows (or of rows meeting any ``where`` condition) lies in min..max."""

    kind: Literal["row_count"]
    minimum: int | None = Field(default=None, ge=0)
    maximum: int | None = Field(default=None, ge=0)
    where: tuple[Condition, ...] = ()

    @model_validator(mode="after")
    def _has_bound(self) -> RowCount:
        if self.minimum is None and self.maximum is None:
            raise ValueError("give minimum, maximum or both")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError("maximum is below minimum")
        return self

    def fields_used(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.where)

    def conditions(self) -> tuple[Condition, ...]:
        return self.where


class ChildInSelection(_Rule):
    """Every row is about a child of the named selection."""

    kind: Literal["child_in_selection"]
    selection: Key

    def selection_used(self) -> str | None:
        return self.selection


class CoversSelection(_Rule):
    """Every child of the named selection has a row."""

    kind: Literal["covers_selection"]
    selection: Key

    def selection_used(self) -> str | None:
        return self.selection


Rule = Annotated[
    OnlyForAges
    | RequiredWhen
    | BlankWhen
    | BlankUnless
    | AllOrNone
    | DateOrder
    | NotInFuture
    | OlderThan
    | WithinPeriod
    | Unique
    | SameForChild
    | AgeMatchesBirthDate
    | RowCount
    | ChildInSelection
    | CoversSelection,
    Field(discriminator="kind"),
]
