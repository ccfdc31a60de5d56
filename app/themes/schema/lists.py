"""The child-level lists a theme asks for: their fields, code lists and headings, as the
child-list parser, the Excel templates and the exports read them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field, model_validator

from app.themes.schema.base import (
    AgencyKind,
    CodelistName,
    CodeValue,
    FieldKey,
    Key,
    Text,
    ThemeModel,
    duplicates,
    location,
    match_key,
    raise_if_any,
)
from app.themes.schema.rules import RequiredWhen, Rule, Unique

FieldType = Literal["text", "date", "code", "yes_no", "integer"]

# The workbook prefixes most codes with a letter ("a) WBRI"); people also type them without.
_WORKBOOK_PREFIX = re.compile(r"^[a-z]{1,2}\)\s*")


class Code(ThemeModel):
    """One value of a code list. ``code`` is stored; exports write ``workbook``."""

    code: CodeValue
    label: Text
    workbook: Text
    aliases: tuple[Text, ...] = ()

    def match_keys(self) -> frozenset[str]:
        spellings = {self.code, self.label, self.workbook, *self.aliases}
        spellings.add(_WORKBOOK_PREFIX.sub("", self.workbook))
        return frozenset(match_key(spelling) for spelling in spellings)


# Yes/no columns are the same in every list and every theme, so they are fixed here rather than
# repeated in each file. "c) Unknown" is the workbook's third answer where a field allows it.
YES = Code(code="Y", label="Yes", workbook="a) Yes")
NO = Code(code="N", label="No", workbook="b) No")
UNKNOWN = Code(code="U", label="Unknown", workbook="c) Unknown")


class FieldSpec(ThemeModel):
    key: FieldKey
    heading: Text
    aliases: tuple[Text, ...] = ()
    type: FieldType
    codelist: CodelistName | None = None
    allowed_codes: tuple[CodeValue, ...] | None = None
    allow_unknown: bool = False
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = Field(default=None, ge=1)
    pattern: str | None = None
    required: bool = False
    theme_extra: bool = False
    description: str | None = None

    @model_validator(mode="after")
    def _options_fit_type(self) -> FieldSpec:
        raise_if_any(self._option_problems())
        return self

    def _option_problems(self) -> Iterator[tuple[str, str]]:
        allowed_by_type: dict[str, FieldType] = {
            "codelist": "code",
            "allowed_codes": "code",
            "allow_unknown": "yes_no",
            "minimum": "integer",
            "maximum": "integer",
            "max_length": "text",
            "pattern": "text",
        }
        for option, field_type in allowed_by_type.items():
            if getattr(self, option) not in (None, False) and self.type != field_type:
                yield option, f"only {field_type} fields take {option}"
        if self.type == "code" and self.codelist is None:
            yield "codelist", "a code field needs a codelist"
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            yield "maximum", "maximum is below minimum"
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                yield "pattern", f"not a regular expression: {exc}"

    def match_keys(self) -> frozenset[str]:
        return frozenset(match_key(text) for text in (self.key, self.heading, *self.aliases))


class ListSpec(ThemeModel):
    key: Key
    annex_a_number: int | None = Field(default=None, ge=1, le=11)
    title: Text
    description: Text
    period_months: int | None = Field(default=None, ge=1)
    responsible: tuple[AgencyKind, ...] = Field(min_length=1)
    milestone: Key
    one_row_per_child: bool
    workbook_sheet: str | None = None
    child_id_field: FieldKey = "child_id"
    fields: tuple[FieldSpec, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _default_workbook_sheet(cls, data: Any) -> Any:
        # Ofsted's workbook keeps Annex A list n on sheet "List_n"; a theme only says otherwise
        # for a workbook laid out differently. Filled in before validation so the model
        # stays frozen and its JSON reads back in unchanged.
        if isinstance(data, dict) and data.get("workbook_sheet") is None:
            number = data.get("annex_a_number")
            if isinstance(number, int):
                return {**data, "workbook_sheet": f"List_{number}"}
        return data

    def field(self, key: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.key == key), None)

    def required_when_equals(self, key: str, value: str) -> tuple[str, ...]:
        """The fields this list's rules require once ``key`` is ``value`` (its follow-ups)."""
        return tuple(
            required
            for rule in self.rules
            if isinstance(rule, RequiredWhen)
            and any(c.field == key and c.equals == value for c in rule.when)
            for required in rule.fields
        )

    @model_validator(mode="after")
    def _consistent(self) -> ListSpec:
        raise_if_any(self._problems())
        return self

    def _problems(self) -> Iterator[tuple[str, str]]:
        yield from self._field_problems()
        for index, rule in enumerate(self.rules):
            yield from self._rule_problems(index, rule)
        if self.one_row_per_child and not any(
            isinstance(r, Unique) and r.fields == (self.child_id_field,) for r in self.rules
        ):
            yield "rules", f"a one-row-per-child list needs a unique rule on {self.child_id_field}"

    def _field_problems(self) -> Iterator[tuple[str, str]]:
        for key in duplicates(f.key for f in self.fields):
            yield "fields", f"field key {key!r} is used twice"
        owners: dict[str, str] = {}
        for index, spec in enumerate(self.fields):
            for spelling in spec.match_keys():
                other = owners.setdefault(spelling, spec.key)
                if other != spec.key:
                    yield location("fields", index), f"heading {spelling!r} also names {other!r}"
        if self.field(self.child_id_field) is None:
            yield "child_id_field", f"no field {self.child_id_field!r} on this list"

    def _rule_problems(self, index: int, rule: Rule) -> Iterator[tuple[str, str]]:
        where = location("rules", index)
        if rule.kind == "within_period" and self.period_months is None:
            yield where, "within_period needs the list's period_months"
        for key in rule.fields_used():
            if self.field(key) is None:
                yield where, f"field {key!r} is not on this list"
        for key, wanted in [(k, "date") for k in rule.date_fields()] + [
            (k, "integer") for k in rule.integer_fields()
        ]:
            spec = self.field(key)
            if spec is not None and spec.type != wanted:
                yield where, f"field {key!r} is {spec.type}, this rule needs {wanted}"
