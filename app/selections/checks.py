"""Which of a selection's rules a choice of children breaks, and for which children.

Each finding names its rule as the theme's selection spec keys it (``distinct``, ``on_lists``,
``count``, ``age``, ``scope``, ``from_selection``). How firmly a rule holds (an error, or the
lead's judgement that a reason may override) is the theme's to say; this module only finds.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.child_lists import blocks as list_blocks
from app.child_lists import repository as child_lists
from app.selections import repository
from app.themes.schema.rules import Condition
from app.themes.schema.selections import Eligibility, SelectionRuleKey, SelectionSpec
from app.themes.schema.theme import Theme


@dataclass(frozen=True)
class Finding:
    """One rule broken: by which children (at which places of ``child_ids``), or by the count."""

    rule: SelectionRuleKey
    code: str
    message: str
    places: tuple[tuple[int, str], ...] = ()  # (index into child_ids, child); none for a count

    @property
    def child_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(child for _, child in self.places))


def condition_holds(condition: Condition, data: Mapping[str, Any]) -> bool:
    value = data.get(condition.field)
    if condition.present is not None:
        return (value not in (None, "")) is condition.present
    if condition.equals is not None:
        return value == condition.equals
    if not isinstance(value, int):
        return False
    above = condition.at_least is None or value >= condition.at_least
    below = condition.at_most is None or value <= condition.at_most
    return above and below


def _in_age_range(eligibility: Eligibility, row: Mapping[str, Any]) -> bool:
    if eligibility.min_age is None and eligibility.max_age is None:
        return True
    age = row.get(eligibility.age_field)
    if not isinstance(age, int):
        return False
    low_ok = eligibility.min_age is None or age >= eligibility.min_age
    return low_ok and (eligibility.max_age is None or age <= eligibility.max_age)


def _in_scope(eligibility: Eligibility, row: Mapping[str, Any]) -> bool:
    return not eligibility.any_of or any(condition_holds(c, row) for c in eligibility.any_of)


def source_lists(theme: Theme, spec: SelectionSpec) -> tuple[str, ...]:
    """The lists a selection's children must be on: its own, else its source selection's."""
    seen: set[str] = set()
    eligibility = spec.eligibility
    while not eligibility.from_lists and eligibility.from_selection not in seen:
        source = theme.selections.get(eligibility.from_selection or "")
        if source is None:
            break
        seen.add(eligibility.from_selection or "")
        eligibility = source.eligibility
    return eligibility.from_lists


def rows_by_child(
    session: Session, inspection_id: uuid.UUID, list_keys: Sequence[str], child_ids: Sequence[str]
) -> dict[str, list[Mapping[str, Any]]]:
    """Each chosen child's rows on the lists named: every supplier's current contribution, so
    a child is on the lists if any of them names it."""
    current = child_lists.current_contributions(session, inspection_id, list_keys)
    found: dict[str, list[Mapping[str, Any]]] = {}
    for row in list_blocks.rows_of(session, [c.version for c in current], child_ids):
        found.setdefault(row.child_id, []).append(row.data)
    return found


class _Collector:
    """Findings gathered child by child, one per rule."""

    def __init__(self, child_ids: Sequence[str]) -> None:
        self.child_ids = child_ids
        self.positions: dict[tuple[SelectionRuleKey, str, str], list[int]] = {}

    def add(self, rule: SelectionRuleKey, code: str, message: str, index: int) -> None:
        self.positions.setdefault((rule, code, message), []).append(index)

    def findings(self) -> list[Finding]:
        return [
            Finding(rule, code, message, tuple((i, self.child_ids[i]) for i in indices))
            for (rule, code, message), indices in self.positions.items()
        ]


def _duplicates(found: _Collector, child_ids: Sequence[str]) -> None:
    seen: set[str] = set()
    for index, child in enumerate(child_ids):
        if child in seen:
            found.add("distinct", "duplicate_child", "chosen more than once", index)
        seen.add(child)


def _count(spec: SelectionSpec, child_ids: Sequence[str]) -> Finding | None:
    chosen = len(set(child_ids))
    if spec.minimum <= chosen <= spec.maximum:
        return None
    low, high = spec.minimum, spec.maximum
    wanted = str(low) if low == high else f"{low} to {high}"
    return Finding(
        "count",
        "wrong_number_of_children",
        f"the guidance asks for {wanted} distinct children; {chosen} chosen",
    )


def _on_lists_and_scope(
    found: _Collector,
    eligibility: Eligibility,
    lists: Sequence[str],
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
) -> None:
    named = ", ".join(lists)
    low, high = eligibility.min_age, eligibility.max_age
    wanted = " or ".join(f"{c.field} = {c.equals!r}" for c in eligibility.any_of)
    for index, child in enumerate(found.child_ids):
        child_rows = rows.get(child)
        if not child_rows:
            found.add("on_lists", "not_on_lists", f"on none of the lists: {named}", index)
            continue
        if not any(_in_age_range(eligibility, row) for row in child_rows):
            message = f"the child's age on the lists is not within {low} to {high}"
            found.add("age", "age_out_of_scope", message, index)
        if not any(_in_scope(eligibility, row) for row in child_rows):
            found.add("scope", "not_in_scope", f"no list row of the child shows {wanted}", index)


def _from_selection(
    found: _Collector, session: Session, inspection_id: uuid.UUID, source_key: str
) -> None:
    source = repository.selection(session, inspection_id, source_key)
    for index, child in enumerate(found.child_ids):
        if source is None:
            message = f"no {source_key} has been made yet, and the children are to come from it"
            found.add("from_selection", "selection_missing", message, index)
        elif child not in source.child_ids:
            found.add("from_selection", "not_in_selection", f"not in the {source_key}", index)


def find_problems(
    session: Session,
    inspection_id: uuid.UUID,
    theme: Theme,
    spec: SelectionSpec,
    child_ids: Sequence[str],
) -> list[Finding]:
    """Every rule of the spec the chosen children break, in the order the rules are listed."""
    found = _Collector(child_ids)
    _duplicates(found, child_ids)
    eligibility = spec.eligibility
    lists = source_lists(theme, spec)
    rows = rows_by_child(session, inspection_id, lists, child_ids)
    _on_lists_and_scope(found, eligibility, lists, rows)
    if eligibility.from_selection is not None:
        _from_selection(found, session, inspection_id, eligibility.from_selection)
    count = _count(spec, child_ids)
    return [*found.findings(), *([count] if count else [])]
