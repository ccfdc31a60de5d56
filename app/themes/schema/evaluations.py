"""What inspectors and the partnership evaluate: Annex B tracking records, the questions the
joint and single-agency evaluations answer, and the evaluation schedule numbers (ESN) they cite.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.themes.schema.base import FieldKey, Text, ThemeModel


class EsnCriterion(ThemeModel):
    number: int = Field(ge=1)
    text: Text
    note: str | None = None


class EsnRange(ThemeModel):
    """Evaluation schedule numbers defined by the JTAI framework itself, cited but not quoted."""

    first: int = Field(ge=1)
    last: int = Field(ge=1)
    source: Text

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int) and self.first <= number <= self.last


class TrackingField(ThemeModel):
    key: FieldKey
    label: Text
    type: Literal["text", "integer"]


class TrackingQuestion(ThemeModel):
    key: FieldKey
    text: Text
    esn: tuple[int, ...] = ()


class Tracking(ThemeModel):
    """Annex B: the inspector's record for one tracked child."""

    header_fields: tuple[TrackingField, ...] = Field(min_length=1)
    questions: tuple[TrackingQuestion, ...] = Field(min_length=1)


class EvaluationSpec(ThemeModel):
    """What the partnership's joint and single-agency evaluations answer: tracking question keys."""

    questions: tuple[FieldKey, ...] = Field(min_length=1)
