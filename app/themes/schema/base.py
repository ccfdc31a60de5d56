"""What every part of a theme file shares: the frozen strict model, key and text types, the
agencies, how headings and codes compare, and how cross-reference problems are reported.

Every model is frozen and rejects unknown keys: a misspelt key in a theme file is a typo to report,
not a setting to ignore.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

AgencyKind = Literal[
    "local_authority",
    "health",
    "police",
    "youth_offending",
    "probation",
    "school",
    "other_agency",
]

Text = Annotated[str, Field(min_length=1)]
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
FieldKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
CodelistName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
CodeValue = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")]

# Curly quotes and en/em dashes (the workbook and the seeds use both kinds) compare as plain ones.
_QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
)


def match_key(text: str) -> str:
    """How headings and codes are compared: case, spacing, curly quotes and dashes ignored."""
    return " ".join(text.translate(_QUOTES).split()).casefold()


class ThemeDataError(ValueError):
    """Cross-reference problems in a theme, each with where it is (``lists[3].rules[0]``)."""

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{where}: {what}" for where, what in self.problems))


def location(*parts: str | int) -> str:
    """Where a problem is, as a path into the file: ``location("lists", 3, "rules")`` is
    ``lists[3].rules``."""
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def duplicates(values: Iterable[object]) -> list[object]:
    return [value for value, count in Counter(values).items() if count > 1]


def raise_if_any(problems: Iterator[tuple[str, str]]) -> None:
    found = list(problems)
    if found:
        raise ThemeDataError(found)


class ThemeModel(BaseModel):
    """The base of every part of a theme: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
