"""The lead inspector's selections, checked against the lists and the theme's scope."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.audit import chain as audit
from app.child_lists import blocks as list_blocks
from app.child_lists import repository as child_lists
from app.core.database import utcnow
from app.core.errors import InvalidContent, NotFound, ProblemItem
from app.inspections.context import Change, InspectionContext
from app.inspections.models import Inspection
from app.selections import repository
from app.selections.models import Selection
from app.themes.schema.rules import Condition
from app.themes.schema.selections import Eligibility, SelectionSpec
from app.themes.schema.theme import Theme


def selection_spec(theme: Theme, key: str) -> SelectionSpec:
    spec = theme.selections.get(key)
    if spec is None:
        raise NotFound(f"The theme '{theme.key}' has no '{key}' selection.")
    return spec


def tracked_children(session: Session, inspection_id: uuid.UUID) -> list[str]:
    """The children the lead tracks: what case files, evaluations and engagement are about."""
    selection = repository.selection(session, inspection_id, "tracked")
    return list(selection.child_ids) if selection else []


def require_tracked_child(session: Session, inspection_id: uuid.UUID, child_id: str) -> None:
    """Evaluations, tracking and engagement exist only for the children the lead tracks."""
    if child_id not in tracked_children(session, inspection_id):
        raise NotFound("No such child among the tracked children.")


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


@dataclass(frozen=True)
class _Problem:
    child_id: str
    index: int
    code: str
    message: str

    def item(self) -> ProblemItem:
        return ProblemItem(
            field=f"body.child_ids.{self.index}",
            code=self.code,
            message=self.message,
            value=self.child_id[:100],
        )


def _in_age_range(eligibility: Eligibility, row: Mapping[str, Any]) -> bool:
    age = row.get(eligibility.age_field)
    if eligibility.min_age is None and eligibility.max_age is None:
        return True
    if not isinstance(age, int):
        return False
    low_ok = eligibility.min_age is None or age >= eligibility.min_age
    return low_ok and (eligibility.max_age is None or age <= eligibility.max_age)


def _row_eligible(eligibility: Eligibility, row: Mapping[str, Any]) -> bool:
    if not _in_age_range(eligibility, row):
        return False
    return not eligibility.any_of or any(condition_holds(c, row) for c in eligibility.any_of)


def _why_not_eligible(
    eligibility: Eligibility, rows: Sequence[Mapping[str, Any]]
) -> tuple[str, str] | None:
    """Why none of a child's rows brings them into scope, or None when one does."""
    if any(_row_eligible(eligibility, row) for row in rows):
        return None
    if not any(_in_age_range(eligibility, row) for row in rows):
        low, high = eligibility.min_age, eligibility.max_age
        return "age_out_of_scope", f"the child's age on the lists is not within {low} to {high}"
    wanted = " or ".join(f"{c.field} = {c.equals!r}" for c in eligibility.any_of)
    return "not_in_scope", f"no list row of the child shows {wanted}"


def _count_problem(spec: SelectionSpec, child_ids: Sequence[str]) -> ProblemItem | None:
    if spec.minimum <= len(child_ids) <= spec.maximum:
        return None
    wanted = (
        str(spec.minimum) if spec.minimum == spec.maximum else f"{spec.minimum} to {spec.maximum}"
    )
    return ProblemItem(
        field="body.child_ids",
        code="wrong_number_of_children",
        message=f"choose {wanted} distinct children; {len(child_ids)} given",
    )


def _from_selection_problems(
    session: Session, inspection: Inspection, source_key: str, child_ids: Sequence[str]
) -> list[_Problem]:
    source = repository.selection(session, inspection.id, source_key)
    if source is None:
        raise InvalidContent(f"Make the '{source_key}' selection first.", code="selection_missing")
    chosen = set(source.child_ids)
    return [
        _Problem(child, index, "not_in_selection", f"the child is not in the {source_key}")
        for index, child in enumerate(child_ids)
        if child not in chosen
    ]


def _from_lists_problems(
    session: Session, inspection: Inspection, eligibility: Eligibility, child_ids: Sequence[str]
) -> list[_Problem]:
    # Every supplier's current contribution: a child is on the lists if any of them names it.
    current = child_lists.current_contributions(session, inspection.id, eligibility.from_lists)
    rows_by_child: dict[str, list[Mapping[str, Any]]] = {}
    for row in list_blocks.rows_of(session, [c.version for c in current], child_ids):
        rows_by_child.setdefault(row.child_id, []).append(row.data)
    lists = ", ".join(eligibility.from_lists)
    problems = []
    for index, child in enumerate(child_ids):
        rows = rows_by_child.get(child)
        if not rows:
            problems.append(
                _Problem(child, index, "not_on_lists", f"the child is on none of: {lists}")
            )
        elif reason := _why_not_eligible(eligibility, rows):
            problems.append(_Problem(child, index, *reason))
    return problems


def check_selection(
    session: Session, inspection: Inspection, spec: SelectionSpec, child_ids: Sequence[str]
) -> None:
    """Raise 422 naming every child (and the count) that breaks the theme's rules."""
    problems: list[ProblemItem] = []
    seen: set[str] = set()
    for index, child in enumerate(child_ids):
        if child in seen:
            problems.append(_Problem(child, index, "duplicate_child", "chosen twice").item())
        seen.add(child)
    if count := _count_problem(spec, sorted(seen)):
        problems.append(count)
    eligibility = spec.eligibility
    if eligibility.from_selection is not None:
        found = _from_selection_problems(session, inspection, eligibility.from_selection, child_ids)
    else:
        found = _from_lists_problems(session, inspection, eligibility, child_ids)
    problems.extend(problem.item() for problem in found)
    if problems:
        raise InvalidContent(
            "The selection breaks the theme's rules.", code="invalid_selection", errors=problems
        )


def choose_children(
    session: Session, context: InspectionContext, key: str, child_ids: Sequence[str]
) -> Selection:
    """The lead's choice of children for a selection: checked against the theme's rules and
    the lists, stored, the document requests re-derived, audited."""
    spec = selection_spec(context.theme, key)
    check_selection(session, context.inspection, spec, child_ids)
    return record_selection(session, context, key, child_ids)


def record_selection(
    session: Session, context: InspectionContext, key: str, child_ids: Sequence[str]
) -> Selection:
    """Store a selection already checked, with everything that follows from it."""
    inspection = context.inspection
    selection = repository.selection(session, inspection.id, key)
    previous = list(selection.child_ids) if selection else []
    now = utcnow()
    if selection is None:
        selection = Selection(inspection_id=inspection.id, key=key, first_made_at=now, version=0)
        session.add(selection)
    selection.child_ids = list(child_ids)
    selection.version += 1
    selection.changed_at, selection.changed_by_client_id = now, context.actor.client_id
    session.flush()
    context.changed(session, Change.TRACKED_CHILDREN)  # case files are asked for tracked children
    audit.record(
        session,
        context.principal,
        "selection.changed",
        "selection",
        key,
        inspection_id=inspection.id,
        detail={
            "version": selection.version,
            "added": sorted(set(child_ids) - set(previous)),
            "removed": sorted(set(previous) - set(child_ids)),
        },
    )
    return selection


def read_selection(session: Session, context: InspectionContext, key: str) -> Selection:
    selection_spec(context.theme, key)
    selection = repository.selection(session, context.inspection.id, key)
    if selection is None:
        raise NotFound(f"No '{key}' selection has been made yet.")
    return selection
