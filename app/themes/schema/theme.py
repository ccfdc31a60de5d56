"""The shape of one deep-dive theme file (``app/themes/data/*.yaml``).

A theme fixes everything about an inspection's deep dive: the child-level lists and their fields,
the declarative checks on those lists, the children the lead inspector selects, the schedule, the
documents and "other information" asked for, and the tracking questions. The service reads all of
it from here, so a new theme is a new file and never a new branch in the code.

Every model is frozen and rejects unknown keys: a misspelt key in a theme file is a typo to report,
not a setting to ignore.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import time
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    model_validator,
)

AgencyKind = Literal[
    "local_authority",
    "health",
    "police",
    "youth_offending",
    "probation",
    "school",
    "other_agency",
]
# Who acts on a milestone: a local agency, CQC (it asks health agencies for documents) or an
# inspector role.
Party = AgencyKind | Literal["cqc", "lead_inspector", "inspector"]
FieldType = Literal["text", "date", "code", "yes_no", "integer"]
Severity = Literal["error", "warning"]

Text = Annotated[str, Field(min_length=1)]
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
FieldKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
CodelistName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
CodeValue = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")]

END_OF_DAY: Literal["end_of_day"] = "end_of_day"

# Curly quotes and en/em dashes (the workbook and the seeds use both kinds) compare as plain ones.
_QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
)
# The workbook prefixes most codes with a letter ("a) WBRI"); people also type them without.
_WORKBOOK_PREFIX = re.compile(r"^[a-z]{1,2}\)\s*")


def match_key(text: str) -> str:
    """How headings and codes are compared: case, spacing, curly quotes and dashes ignored."""
    return " ".join(text.translate(_QUOTES).split()).casefold()


class ThemeDataError(ValueError):
    """Cross-reference problems in a theme, each with where it is (``lists[3].rules[0]``)."""

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{where}: {what}" for where, what in self.problems))


def _at(*parts: str | int) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def _duplicates(values: Iterable[object]) -> list[object]:
    return [value for value, count in Counter(values).items() if count > 1]


def _raise_if(problems: Iterator[tuple[str, str]]) -> None:
    found = list(problems)
    if found:
        raise ThemeDataError(found)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- code lists -----------------------------------------------------------------------------


class Code(_Model):
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


# --- fields and rules -----------------------------------------------------------------------


class FieldSpec(_Model):
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
        _raise_if(self._option_problems())
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


class Condition(_Model):
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


class _Rule(_Model):
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
    """``fields`` must be given when any condition in ``when`` holds."""

    kind: Literal["required_when"]
    fields: tuple[FieldKey, ...] = Field(min_length=1)
    when: tuple[Condition, ...] = Field(min_length=1)

    def fields_used(self) -> tuple[str, ...]:
        return (*self.fields, *(c.field for c in self.when))

    def conditions(self) -> tuple[Condition, ...]:
        return self.when


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
    | Unique
    | SameForChild
    | AgeMatchesBirthDate
    | RowCount
    | ChildInSelection
    | CoversSelection,
    Field(discriminator="kind"),
]


# --- lists ----------------------------------------------------------------------------------


class ListSpec(_Model):
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
        _raise_if(self._problems())
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
        for key in _duplicates(f.key for f in self.fields):
            yield "fields", f"field key {key!r} is used twice"
        owners: dict[str, str] = {}
        for index, spec in enumerate(self.fields):
            for spelling in spec.match_keys():
                other = owners.setdefault(spelling, spec.key)
                if other != spec.key:
                    yield _at("fields", index), f"heading {spelling!r} also names {other!r}"
        if self.field(self.child_id_field) is None:
            yield "child_id_field", f"no field {self.child_id_field!r} on this list"

    def _rule_problems(self, index: int, rule: Rule) -> Iterator[tuple[str, str]]:
        where = _at("rules", index)
        for key in rule.fields_used():
            if self.field(key) is None:
                yield where, f"field {key!r} is not on this list"
        for key, wanted in [(k, "date") for k in rule.date_fields()] + [
            (k, "integer") for k in rule.integer_fields()
        ]:
            spec = self.field(key)
            if spec is not None and spec.type != wanted:
                yield where, f"field {key!r} is {spec.type}, this rule needs {wanted}"


# --- selections and schedule ----------------------------------------------------------------


class Eligibility(_Model):
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


class SelectionSpec(_Model):
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


class _Satisfied(_Model):
    def lists_used(self) -> tuple[str, ...]:
        return ()

    def selection_used(self) -> str | None:
        return None


class ListsPushed(_Satisfied):
    kind: Literal["lists_pushed"]
    lists: tuple[Key, ...] = Field(min_length=1)

    def lists_used(self) -> tuple[str, ...]:
        return self.lists


class SelectionMade(_Satisfied):
    kind: Literal["selection_made"]
    selection: Key

    def selection_used(self) -> str | None:
        return self.selection


class DocumentsForTrackedChildren(_Satisfied):
    kind: Literal["documents_for_tracked_children"]


class InformationItemsProvided(_Satisfied):
    kind: Literal["information_items_provided"]


class EvaluationsForTrackedChildren(_Satisfied):
    kind: Literal["evaluations_for_tracked_children"]
    evaluation: Literal["joint", "single_agency"] = "joint"


class EngagementForTrackedChildren(_Satisfied):
    kind: Literal["engagement_for_tracked_children"]


class MeetingsRecorded(_Satisfied):
    kind: Literal["meetings_recorded"]


class CqcRequestsMade(_Satisfied):
    kind: Literal["cqc_requests_made"]


class NothingToSubmit(_Satisfied):
    """A date on the schedule (fieldwork starts) that nobody submits anything for."""

    kind: Literal["none"]


SatisfiedBy = Annotated[
    ListsPushed
    | SelectionMade
    | DocumentsForTrackedChildren
    | InformationItemsProvided
    | EvaluationsForTrackedChildren
    | EngagementForTrackedChildren
    | MeetingsRecorded
    | CqcRequestsMade
    | NothingToSubmit,
    Field(discriminator="kind"),
]

# Tags pydantic puts in error locations inside the two discriminated unions; registry.py drops
# them so a path reads ``lists[3].rules[0].fields`` whatever the rule's kind.
DISCRIMINATOR_TAGS: frozenset[str] = frozenset(
    tag
    for union in (Rule, SatisfiedBy)
    for member in get_args(get_args(union)[0])
    for tag in get_args(member.model_fields["kind"].annotation)
)


class Milestone(_Model):
    key: Key
    title: Text
    responsible: tuple[Party, ...] = Field(min_length=1)
    working_days: int = Field(ge=0)
    # A string, not a time: an unquoted 12:00 in YAML 1.1 is the integer 720.
    at: str = Field(pattern=r"^(end_of_day|([01][0-9]|2[0-3]):[0-5][0-9])$")
    note: str | None = None
    satisfied_by: tuple[SatisfiedBy, ...] = Field(min_length=1)

    def due_time(self) -> time | Literal["end_of_day"]:
        return END_OF_DAY if self.at == END_OF_DAY else time.fromisoformat(self.at)

    def order_key(self) -> tuple[int, time]:
        due = self.due_time()
        return self.working_days, time.max if due == END_OF_DAY else due

    @model_validator(mode="after")
    def _none_alone(self) -> Milestone:
        kinds = [s.kind for s in self.satisfied_by]
        if "none" in kinds and len(kinds) > 1:
            raise ValueError("satisfied_by 'none' cannot be combined with other conditions")
        return self


# --- documents, information, meetings, evaluation -------------------------------------------


class DocumentCategory(_Model):
    key: Key
    title: Text
    provided_by: tuple[AgencyKind, ...] = Field(min_length=1)
    sub_items: tuple[Text, ...] = ()
    note: str | None = None


class InformationItem(_Model):
    number: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+$")]
    text: Text
    note: str | None = None


class InformationSection(_Model):
    number: int = Field(ge=1)
    title: Text
    addressed_to: tuple[AgencyKind, ...] = Field(min_length=1)
    items: tuple[InformationItem, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _numbered_in_section(self) -> InformationSection:
        _raise_if(
            (_at("items", i), f"item {item.number} is not numbered in section {self.number}")
            for i, item in enumerate(self.items)
            if item.number.split(".")[0] != str(self.number)
        )
        return self


class MeetingKind(_Model):
    key: Key
    title: Text


class EsnCriterion(_Model):
    number: int = Field(ge=1)
    text: Text
    note: str | None = None


class EsnRange(_Model):
    """Evaluation schedule numbers defined by the JTAI framework itself, cited but not quoted."""

    first: int = Field(ge=1)
    last: int = Field(ge=1)
    source: Text

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int) and self.first <= number <= self.last


class TrackingField(_Model):
    key: FieldKey
    label: Text
    type: Literal["text", "integer"]


class TrackingQuestion(_Model):
    key: FieldKey
    text: Text
    esn: tuple[int, ...] = ()


class Tracking(_Model):
    """Annex B: the inspector's record for one tracked child."""

    header_fields: tuple[TrackingField, ...] = Field(min_length=1)
    questions: tuple[TrackingQuestion, ...] = Field(min_length=1)


class EvaluationSpec(_Model):
    """What the partnership's joint and single-agency evaluations answer: tracking question keys."""

    questions: tuple[FieldKey, ...] = Field(min_length=1)


class Source(_Model):
    title: Text
    reference: Text
    published: Text


# --- the theme ------------------------------------------------------------------------------


class Theme(_Model):
    key: Key
    title: Text
    source: Source
    description: Text
    scope: Text
    codelists: dict[CodelistName, tuple[Code, ...]]
    lists: tuple[ListSpec, ...] = Field(min_length=1)
    selections: dict[Key, SelectionSpec]
    milestones: tuple[Milestone, ...] = Field(min_length=1)
    case_file_documents: tuple[DocumentCategory, ...]
    information_sections: tuple[InformationSection, ...]
    meeting_kinds: tuple[MeetingKind, ...]
    esn_criteria: tuple[EsnCriterion, ...]
    framework_esn_range: EsnRange
    tracking: Tracking
    evaluation: EvaluationSpec

    def get_list(self, key: str) -> ListSpec | None:
        return next((spec for spec in self.lists if spec.key == key), None)

    def get_milestone(self, key: str) -> Milestone | None:
        return next((m for m in self.milestones if m.key == key), None)

    def milestone_satisfied_by(self, kind: str) -> Milestone | None:
        """The milestone a kind of submission satisfies (its due time is that kind's bar)."""
        return next(
            (m for m in self.milestones if any(c.kind == kind for c in m.satisfied_by)), None
        )

    def codes_for(self, spec: FieldSpec) -> tuple[Code, ...]:
        """The values a code or yes/no field accepts (empty for other types)."""
        if spec.type == "yes_no":
            return (YES, NO, UNKNOWN) if spec.allow_unknown else (YES, NO)
        if spec.type != "code" or spec.codelist is None:
            return ()
        codes = self.codelists.get(spec.codelist, ())
        allowed = spec.allowed_codes
        return codes if allowed is None else tuple(c for c in codes if c.code in allowed)

    @model_validator(mode="after")
    def _consistent(self) -> Theme:
        _raise_if(_theme_problems(self))
        return self


# --- cross-reference checks on a whole theme ------------------------------------------------
# Each check yields (where, what) so one broken file reports every problem it has, not only the
# first one pydantic would stop at.


def _theme_problems(theme: Theme) -> Iterator[tuple[str, str]]:
    yield from _unique_keys(theme)
    yield from _codelist_problems(theme)
    for index, spec in enumerate(theme.lists):
        yield from _list_references(theme, index, spec)
    for key, selection in theme.selections.items():
        yield from _selection_problems(theme, key, selection)
    yield from _milestone_problems(theme)
    yield from _esn_problems(theme)
    known_questions = {q.key for q in theme.tracking.questions}
    for index, key in enumerate(theme.evaluation.questions):
        if key not in known_questions:
            yield _at("evaluation", "questions", index), f"no tracking question {key!r}"


def _unique_keys(theme: Theme) -> Iterator[tuple[str, str]]:
    keyed: dict[str, Iterable[object]] = {
        "lists": (s.key for s in theme.lists),
        "milestones": (m.key for m in theme.milestones),
        "case_file_documents": (d.key for d in theme.case_file_documents),
        "information_sections": (s.number for s in theme.information_sections),
        "information_sections.items": (
            i.number for s in theme.information_sections for i in s.items
        ),
        "meeting_kinds": (m.key for m in theme.meeting_kinds),
        "esn_criteria": (c.number for c in theme.esn_criteria),
        "tracking.header_fields": (f.key for f in theme.tracking.header_fields),
        "tracking.questions": (q.key for q in theme.tracking.questions),
    }
    for where, values in keyed.items():
        for value in _duplicates(values):
            yield where, f"{value!r} is used twice"


def _codelist_problems(theme: Theme) -> Iterator[tuple[str, str]]:
    for name, codes in theme.codelists.items():
        if not codes:
            yield _at("codelists", name), "a code list needs at least one code"
        for code in _duplicates(c.code for c in codes):
            yield _at("codelists", name), f"code {code!r} is used twice"
        owners: dict[str, str] = {}
        for index, code in enumerate(codes):
            for spelling in code.match_keys():
                other = owners.setdefault(spelling, code.code)
                if other != code.code:
                    yield _at("codelists", name, index), f"{spelling!r} also means {other!r}"


def _list_references(theme: Theme, index: int, spec: ListSpec) -> Iterator[tuple[str, str]]:
    where = _at("lists", index)
    milestone = theme.get_milestone(spec.milestone)
    if milestone is None:
        yield _at(where, "milestone"), f"no milestone {spec.milestone!r}"
    elif not any(spec.key in s.lists_used() for s in milestone.satisfied_by):
        yield _at(where, "milestone"), f"milestone {milestone.key!r} does not list {spec.key!r}"
    for field_index, field_spec in enumerate(spec.fields):
        yield from _codelist_reference(theme, _at(where, "fields", field_index), field_spec)
    for rule_index, rule in enumerate(spec.rules):
        rule_at = _at(where, "rules", rule_index)
        for condition in rule.conditions():
            yield from _condition_problems(theme, spec, condition, rule_at)
        selection = rule.selection_used()
        if selection is not None and selection not in theme.selections:
            yield rule_at, f"no selection {selection!r}"


def _codelist_reference(theme: Theme, where: str, spec: FieldSpec) -> Iterator[tuple[str, str]]:
    if spec.codelist is None:
        return
    codes = theme.codelists.get(spec.codelist)
    if codes is None:
        yield _at(where, "codelist"), f"no code list {spec.codelist!r}"
        return
    unknown = set(spec.allowed_codes or ()) - {c.code for c in codes}
    if unknown:
        yield _at(where, "allowed_codes"), f"not in {spec.codelist}: {sorted(unknown)}"


def _condition_problems(
    theme: Theme, spec: ListSpec, condition: Condition, where: str
) -> Iterator[tuple[str, str]]:
    field_spec = spec.field(condition.field)
    if field_spec is None:
        yield where, f"field {condition.field!r} is not on list {spec.key!r}"
        return
    if (condition.at_least, condition.at_most) != (None, None) and field_spec.type != "integer":
        yield where, f"a range needs an integer field, {condition.field!r} is {field_spec.type}"
    value = condition.equals
    if value is None:
        return
    codes = theme.codes_for(field_spec)
    if codes and value not in {c.code for c in codes}:
        yield where, f"{value!r} is not a code of {condition.field!r}"
    elif field_spec.type == "integer" and not isinstance(value, int):
        yield where, f"{condition.field!r} is an integer field, {value!r} is not"


def _selection_problems(
    theme: Theme, key: str, selection: SelectionSpec
) -> Iterator[tuple[str, str]]:
    where = _at("selections", key)
    milestone = theme.get_milestone(selection.milestone)
    if milestone is None:
        yield _at(where, "milestone"), f"no milestone {selection.milestone!r}"
    elif key not in {s.selection_used() for s in milestone.satisfied_by}:
        yield _at(where, "milestone"), f"milestone {milestone.key!r} does not make {key!r}"
    eligibility = selection.eligibility
    source = eligibility.from_selection
    if source is not None and (source == key or source not in theme.selections):
        yield _at(where, "eligibility", "from_selection"), f"no other selection {source!r}"
    for list_key in eligibility.from_lists:
        spec = theme.get_list(list_key)
        if spec is None:
            yield _at(where, "eligibility", "from_lists"), f"no list {list_key!r}"
            continue
        for condition in eligibility.any_of:
            yield from _condition_problems(theme, spec, condition, _at(where, "eligibility"))
        age = spec.field(eligibility.age_field)
        has_ages = (eligibility.min_age, eligibility.max_age) != (None, None)
        if has_ages and (age is None or age.type != "integer"):
            yield _at(where, "eligibility"), f"no integer {eligibility.age_field!r} on {list_key!r}"


def _milestone_problems(theme: Theme) -> Iterator[tuple[str, str]]:
    previous: Milestone | None = None
    for index, milestone in enumerate(theme.milestones):
        where = _at("milestones", index)
        if previous is not None and milestone.order_key() < previous.order_key():
            yield where, f"due before the milestone listed above it ({previous.key!r})"
        previous = milestone
        for condition in milestone.satisfied_by:
            for list_key in condition.lists_used():
                if theme.get_list(list_key) is None:
                    yield _at(where, "satisfied_by"), f"no list {list_key!r}"
            selection = condition.selection_used()
            if selection is not None and selection not in theme.selections:
                yield _at(where, "satisfied_by"), f"no selection {selection!r}"


def _esn_problems(theme: Theme) -> Iterator[tuple[str, str]]:
    framework = theme.framework_esn_range
    own = {c.number for c in theme.esn_criteria}
    for index, criterion in enumerate(theme.esn_criteria):
        if criterion.number in framework:
            yield _at("esn_criteria", index), f"ESN {criterion.number} belongs to the framework"
    for index, question in enumerate(theme.tracking.questions):
        for number in question.esn:
            if number not in own and number not in framework:
                yield _at("tracking", "questions", index), f"unknown ESN {number}"
