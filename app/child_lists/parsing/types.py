"""What the child-list engine takes and gives back: context, limits, problems, the result.

The engine is pure (no HTTP, no database), so these are plain frozen dataclasses; the API layer
turns them into its own response models and maps the exceptions to status codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Literal, Protocol

import polars as pl

if TYPE_CHECKING:
    from app.themes.schema.lists import ListSpec
    from app.themes.schema.theme import Theme

Severity = Literal["error", "warning"]
Value = str | int | date | None

JSON = "application/json"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = (JSON, CSV, XLSX)

GIB = 1024**3


@dataclass(frozen=True)
class Limits:
    """Bounds on what one push may cost. Tests pass small ones; production uses the defaults."""

    max_body_bytes: int = 50 * 1024**2
    max_rows: int = 500_000
    # Excel's own limit on the characters in a cell.
    max_cell_chars: int = 32_767
    max_problems: int = 1_000
    # Columns a file may have beyond its list's fields (notes, a council's own extra columns);
    # wider files are refused at the heading row, before any row is read.
    extra_columns: int = 64
    max_compression_ratio: int = 100
    # Members smaller than this cannot hurt whatever their ratio (a tiny styles.xml of repeated
    # tags compresses far beyond 100:1), so only bigger ones are held to the ratio.
    ratio_floor_bytes: int = 1024**2

    def max_columns(self, fields: int) -> int:
        return fields + self.extra_columns

    @property
    def max_uncompressed_bytes(self) -> int:
        return min(20 * self.max_body_bytes, GIB)


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class IngestContext:
    """What validation needs to know beyond the file: the day it is received and the
    selections made so far (child ids per selection key; absent means not made yet)."""

    today: date
    selections: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """One entry of the validation report. ``row`` is the row number the user sees in their
    file (None for problems with the whole list or a whole column)."""

    row: int | None
    column: str | None
    field: str | None
    code: str
    message: str
    value: str | None
    severity: Severity

    def as_dict(self) -> dict[str, str | int | None]:
        return asdict(self)


@dataclass(frozen=True)
class IngestResult:
    """Normalised rows plus the report. ``frame`` holds the same rows column-wise (one typed
    column per field of the list, in the list's order) for bulk loading; ``rows`` is built from
    it on first use, because a hundred thousand dicts cost more than the whole validation."""

    frame: pl.DataFrame
    # The row each of ``frame``'s rows is in the file; a Series, since a list of a hundred
    # thousand ints costs more to make (and for the blocks to turn back) than to need.
    numbers: pl.Series
    problems: list[Problem]
    problem_count: int
    error_count: int
    warning_count: int
    headings: dict[str, str]
    sheet: str | None = None  # the workbook's sheet that was read (Excel only)

    @property
    def accepted(self) -> bool:
        return self.error_count == 0

    @property
    def row_count(self) -> int:
        return len(self.numbers)

    @cached_property
    def row_numbers(self) -> list[int]:
        return self.numbers.to_list()

    @cached_property
    def rows(self) -> list[dict[str, Value]]:
        return self.frame.to_dicts()


@dataclass(frozen=True)
class EncodedBlock:
    """Up to a thousand rows of a list as stored: their Arrow IPC bytes and the child IDs they
    name (one a line, for look-ups without decoding)."""

    number: int
    first_row: int
    row_count: int
    child_ids: str
    data: bytes


@dataclass(frozen=True)
class ListRead:
    """A push as the service gets it back from its reader: the report, the list's columns and,
    when accepted and wanted, its rows as the blocks they are stored in. The blocks arrive
    while the service stores them (the reader encodes the next meanwhile), so the service holds
    a block at a time, not the list; ``close`` abandons those not taken."""

    problems: list[Problem]
    problem_count: int
    error_count: int
    warning_count: int
    headings: dict[str, str]
    row_count: int
    columns: list[str]
    blocks: Iterator[EncodedBlock]
    sheet: str | None = None  # the workbook's sheet that was read (Excel only)

    @property
    def accepted(self) -> bool:
        return self.error_count == 0

    def close(self) -> None:
        close = getattr(self.blocks, "close", None)
        if close is not None:
            close()


class ListReader(Protocol):
    """Reads one push (``ingest`` run in a sandboxed worker); ``blocks`` says whether the
    accepted rows are wanted (not for a dry run)."""

    def __call__(
        self,
        body: Iterable[bytes],
        media_type: str,
        spec: ListSpec,
        theme: Theme,
        context: IngestContext,
        blocks: bool,
    ) -> ListRead: ...


class IngestError(Exception):
    """The body cannot be read as a list at all, so there is no row-by-row report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class UnsupportedMediaTypeError(IngestError):
    """Not JSON, CSV or .xlsx: the caller answers 415."""


class BodyTooLargeError(IngestError):
    """Over the byte, row or uncompressed-size limits: the caller answers 413."""


class UnreadableFileError(IngestError):
    """Malformed or unsafe content (broken JSON, a zip that is not a workbook, XML entity
    declarations): the caller answers 422."""
