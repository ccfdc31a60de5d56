"""The theme's milestones: who acts, how many working days after D0 and at what time, and what
submission satisfies each one (read by ``app.schedule``).
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from pydantic import Field, model_validator

from app.themes.schema.base import AgencyKind, Key, Text, ThemeModel

# Who acts on a milestone: a local agency, CQC (it asks health agencies for documents) or an
# inspector role.
Party = AgencyKind | Literal["cqc", "lead_inspector", "inspector"]

END_OF_DAY: Literal["end_of_day"] = "end_of_day"


class _Satisfied(ThemeModel):
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


class Milestone(ThemeModel):
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
