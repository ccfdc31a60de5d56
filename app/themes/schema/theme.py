"""One deep-dive theme, whole (``app/themes/data/*.yaml``), and the checks across its parts.

A theme fixes everything about an inspection's deep dive: the child-level lists and their fields,
the declarative checks on those lists, the children the lead inspector selects, the schedule, the
documents and "other information" asked for, and the tracking questions. The service reads all of
it from here, so a new theme is a new file and never a new branch in the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal, get_args

from pydantic import Field, model_validator

from app.themes.schema.base import (
    AgencyKind,
    CodelistName,
    Key,
    Text,
    ThemeModel,
    duplicates,
    location,
    raise_if_any,
)
from app.themes.schema.document_requests import DocumentCategory, InformationSection
from app.themes.schema.evaluations import EsnCriterion, EsnRange, EvaluationSpec, Tracking
from app.themes.schema.lists import NO, UNKNOWN, YES, Code, FieldSpec, ListSpec
from app.themes.schema.rules import Condition, Rule
from app.themes.schema.schedule import Milestone, SatisfiedBy
from app.themes.schema.selections import SelectionSpec

# Tags pydantic puts in error locations inside the two discriminated unions; registry.py drops
# them so a path reads ``lists[3].rules[0].fields`` whatever the rule's kind.
DISCRIMINATOR_TAGS: frozenset[str] = frozenset(
    tag
    for union in (Rule, SatisfiedBy)
    for member in get_args(get_args(union)[0])
    for tag in get_args(member.model_fields["kind"].annotation)
)


class MeetingKind(ThemeModel):
    key: Key
    title: Text


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)


class Notification(ThemeModel):
    """The day of the week the guidance notifies areas on (D0), and where it says so."""

    weekday: Weekday
    reference: Text

    @property
    def weekday_index(self) -> int:
        return WEEKDAYS.index(self.weekday)


class ContextNote(ThemeModel):
    """What the director of children's services may tell the lead of the area's context when
    the lists are sent, which the lead takes into account when selecting children."""

    title: Text
    reference: Text


class Source(ThemeModel):
    title: Text
    reference: Text
    published: Text


class Theme(ThemeModel):
    key: Key
    title: Text
    source: Source
    description: Text
    scope: Text
    notification: Notification
    context_note: ContextNote | None = None
    # Agencies the deep dive leaves out, each with the guidance's reason: they do not take part
    # in an inspection on this theme.
    out_of_scope: dict[AgencyKind, Text] = Field(default_factory=dict)
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

    def out_of_scope_reason(self, organisation_kind: str) -> str | None:
        """Why an organisation of this kind takes no part in the theme's inspections, if not."""
        return next(
            (reason for kind, reason in self.out_of_scope.items() if kind == organisation_kind),
            None,
        )

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
        raise_if_any(_theme_problems(self))
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
            yield location("evaluation", "questions", index), f"no tracking question {key!r}"


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
        for value in duplicates(values):
            yield where, f"{value!r} is used twice"


def _codelist_problems(theme: Theme) -> Iterator[tuple[str, str]]:
    for name, codes in theme.codelists.items():
        if not codes:
            yield location("codelists", name), "a code list needs at least one code"
        for code in duplicates(c.code for c in codes):
            yield location("codelists", name), f"code {code!r} is used twice"
        owners: dict[str, str] = {}
        for index, code in enumerate(codes):
            for spelling in code.match_keys():
                other = owners.setdefault(spelling, code.code)
                if other != code.code:
                    yield location("codelists", name, index), f"{spelling!r} also means {other!r}"


def _list_references(theme: Theme, index: int, spec: ListSpec) -> Iterator[tuple[str, str]]:
    where = location("lists", index)
    milestone = theme.get_milestone(spec.milestone)
    if milestone is None:
        yield location(where, "milestone"), f"no milestone {spec.milestone!r}"
    elif not any(spec.key in s.lists_used() for s in milestone.satisfied_by):
        yield (
            location(where, "milestone"),
            f"milestone {milestone.key!r} does not list {spec.key!r}",
        )
    for field_index, field_spec in enumerate(spec.fields):
        yield from _codelist_reference(theme, location(where, "fields", field_index), field_spec)
    for rule_index, rule in enumerate(spec.rules):
        rule_at = location(where, "rules", rule_index)
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
        yield location(where, "codelist"), f"no code list {spec.codelist!r}"
        return
    unknown = set(spec.allowed_codes or ()) - {c.code for c in codes}
    if unknown:
        yield location(where, "allowed_codes"), f"not in {spec.codelist}: {sorted(unknown)}"


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
    where = location("selections", key)
    milestone = theme.get_milestone(selection.milestone)
    if milestone is None:
        yield location(where, "milestone"), f"no milestone {selection.milestone!r}"
    elif key not in {s.selection_used() for s in milestone.satisfied_by}:
        yield location(where, "milestone"), f"milestone {milestone.key!r} does not make {key!r}"
    eligibility = selection.eligibility
    source = eligibility.from_selection
    if source is not None and (source == key or source not in theme.selections):
        yield location(where, "eligibility", "from_selection"), f"no other selection {source!r}"
    for list_key in eligibility.from_lists:
        spec = theme.get_list(list_key)
        if spec is None:
            yield location(where, "eligibility", "from_lists"), f"no list {list_key!r}"
            continue
        for condition in eligibility.any_of:
            yield from _condition_problems(theme, spec, condition, location(where, "eligibility"))
        age = spec.field(eligibility.age_field)
        has_ages = (eligibility.min_age, eligibility.max_age) != (None, None)
        if has_ages and (age is None or age.type != "integer"):
            yield (
                location(where, "eligibility"),
                f"no integer {eligibility.age_field!r} on {list_key!r}",
            )


def _milestone_problems(theme: Theme) -> Iterator[tuple[str, str]]:
    previous: Milestone | None = None
    for index, milestone in enumerate(theme.milestones):
        where = location("milestones", index)
        if previous is not None and milestone.order_key() < previous.order_key():
            yield where, f"due before the milestone listed above it ({previous.key!r})"
        previous = milestone
        for condition in milestone.satisfied_by:
            for list_key in condition.lists_used():
                if theme.get_list(list_key) is None:
                    yield location(where, "satisfied_by"), f"no list {list_key!r}"
            selection = condition.selection_used()
            if selection is not None and selection not in theme.selections:
                yield location(where, "satisfied_by"), f"no selection {selection!r}"


def _esn_problems(theme: Theme) -> Iterator[tuple[str, str]]:
    framework = theme.framework_esn_range
    own = {c.number for c in theme.esn_criteria}
    for index, criterion in enumerate(theme.esn_criteria):
        if criterion.number in framework:
            yield (
                location("esn_criteria", index),
                f"ESN {criterion.number} belongs to the framework",
            )
    for index, question in enumerate(theme.tracking.questions):
        for number in question.esn:
            if number not in own and number not in framework:
                yield location("tracking", "questions", index), f"unknown ESN {number}"
