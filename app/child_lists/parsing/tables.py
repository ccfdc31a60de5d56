"""From a request body to a table of text: JSON, CSV or .xlsx, one shape for all three.

Every format ends as a ``RawTable``: the headings as written and a polars frame of stripped text
(blank cells null, blank rows gone) with the row number the user sees in their file. Typing and
validation happen later, column-wise, on that one shape.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import zip_longest
from typing import Any

import polars as pl

from app.child_lists.parsing import xlsx
from app.child_lists.parsing.headings import HeadingMatcher, heading_row_index
from app.child_lists.parsing.types import (
    CSV,
    JSON,
    MEDIA_TYPES,
    XLSX,
    BodyTooLargeError,
    Limits,
    UnreadableFileError,
    UnsupportedMediaTypeError,
)

ROW = "#row"
# A title row or two may sit above the headings (Ofsted's workbook has one).
HEADING_SEARCH_ROWS = 5
_SEPARATORS = (",", ";", "\t")
_SNIFF_CHARS = 256 * 1024
_UTF8_PIECE = 1024 * 1024


@dataclass(frozen=True)
class RawTable:
    headings: list[str]
    frame: pl.DataFrame  # ROW, then column i of the file as "c{i}"
    heading_row: int | None
    keyed: bool  # JSON: columns are named by keys, not read from a heading row
    sheet: str | None = None  # the workbook's sheet read (Excel only)

    def has_values(self) -> list[bool]:
        if not self.headings:
            return []
        names = [column_name(i) for i in range(len(self.headings))]
        return [bool(flag) for flag in self.frame.select(pl.col(names).is_not_null().any()).row(0)]


def column_name(position: int) -> str:
    return f"c{position}"


def media_kind(media_type: str) -> str:
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind not in MEDIA_TYPES:
        raise UnsupportedMediaTypeError(
            "unsupported_media_type",
            f"Lists are sent as JSON ({JSON}), CSV ({CSV}) or an Excel workbook ({XLSX}), "
            f"not {repr(media_type) if media_type else 'without a Content-Type'}.",
        )
    return kind


def join_body(body: bytes | Iterable[bytes], limits: Limits) -> bytes:
    chunks = [body] if isinstance(body, bytes | bytearray | memoryview) else body
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise BodyTooLargeError(
                "body_too_large", f"The list is over the limit of {limits.max_body_bytes:,} bytes."
            )
        parts.append(bytes(chunk))
    return b"".join(parts)


def read_table(kind: str, body: bytes, matcher: HeadingMatcher, limits: Limits) -> RawTable:
    max_columns = limits.max_columns(len(matcher.spec.fields))
    if kind == JSON:
        return _read_json(body, limits, max_columns)
    if kind == CSV:
        return _read_csv(body, matcher, limits, max_columns)
    xlsx.check_zip(body, limits, max_columns)
    return _read_xlsx(body, matcher, matcher.spec.workbook_sheet, limits)


# --- shared ---------------------------------------------------------------------------------


def _finish(
    headings: list[str],
    frame: pl.DataFrame,
    first_row: int,
    heading_row: int | None,
    limits: Limits,
    keyed: bool = False,
) -> RawTable:
    # Spaces around a heading are invisible in a spreadsheet, so "as written" is without them.
    headings = [h.strip() for h in headings] + [""] * (frame.width - len(headings))
    frame = frame.with_columns(  # and headings beyond the cells
        pl.lit(None, pl.String).alias(f"pad{i}") for i in range(frame.width, len(headings))
    )
    names = [column_name(i) for i in range(len(headings))]
    cells = [
        pl.when(pl.col(old).str.len_bytes() > 0).then(pl.col(old)).alias(new)
        for old, new in zip(frame.columns, names, strict=True)
    ]
    # One query, not a frame after each step: a fifth less time on a hundred thousand rows.
    query = (
        frame.lazy()
        .select(pl.all().str.strip_chars())
        .select((pl.int_range(pl.len(), dtype=pl.Int64) + first_row).alias(ROW), *cells)
    )
    if names:
        query = query.filter(pl.any_horizontal(pl.col(names).is_not_null()))
    frame = query.collect()
    if frame.height > limits.max_rows:
        raise _too_many_rows(limits)
    return RawTable(headings, frame, heading_row, keyed)


def _check_width(columns: int, max_columns: int) -> None:
    if columns > max_columns:
        # 422 rather than 413: the body may be small; what it declares is what cannot be read.
        raise UnreadableFileError(
            "too_many_columns",
            f"The heading row has {columns:,} columns or more; this list has room for at most "
            f"{max_columns:,}. Nothing was read beyond the headings.",
        )


def _too_many_rows(limits: Limits) -> BodyTooLargeError:
    return BodyTooLargeError(
        "too_many_rows", f"The list has more than {limits.max_rows:,} rows; split it or trim it."
    )


def _text_column(values: Sequence[Any], convert: Callable[[object], str | None]) -> pl.Series:
    try:
        # Most columns are text already; polars takes those without a Python loop.
        return pl.Series(values, dtype=pl.String, strict=True)
    except TypeError:
        pass
    return pl.Series(
        [v if v.__class__ is str else convert(v) for v in values], dtype=pl.String, strict=True
    )


# --- JSON -----------------------------------------------------------------------------------


class _NestedValueError(ValueError):
    pass


def _json_cell(value: object) -> str | None:
    if isinstance(value, dict | list):
        raise _NestedValueError
    return xlsx.cell_text(value)


class _ObjectCounter:
    """An ``object_hook`` that stops decoding once the document holds more objects than the
    list may have rows (and the object around them), so a body of millions of ``{}`` costs no
    more than the limit does."""

    class LimitReached(Exception):
        pass

    def __init__(self, limit: int) -> None:
        self.left = limit

    def __call__(self, value: dict[str, Any]) -> dict[str, Any]:
        self.left -= 1
        if self.left < 0:
            raise self.LimitReached
        return value


def _lone_surrogate(what: str) -> UnreadableFileError:
    # JSON's \ud800 escapes decode to a string that no encoding can hold, nor any response.
    return UnreadableFileError(
        "invalid_json", f"{what} holds a lone UTF-16 surrogate (such as \\ud800), not text."
    )


def _check_encodable(key: str) -> None:
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise _lone_surrogate(
            f"The key {key.encode('utf-8', 'backslashreplace').decode()!r}"
        ) from None


def _read_json(body: bytes, limits: Limits, max_columns: int) -> RawTable:
    try:
        document = json.loads(body, object_hook=_ObjectCounter(limits.max_rows + 1))
    except _ObjectCounter.LimitReached:
        raise _too_many_rows(limits) from None
    except RecursionError:
        raise UnreadableFileError(
            "invalid_json",
            "The body is nested too deeply to be a list: rows are objects of plain values.",
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableFileError("invalid_json", f"The body is not valid JSON: {exc}.") from None
    rows = document.get("rows") if isinstance(document, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise UnreadableFileError(
            "invalid_json", 'Send the list as {"rows": [{"child_id": "...", ...}, ...]}.'
        )
    if len(rows) > limits.max_rows:
        raise _too_many_rows(limits)
    keys = list(dict.fromkeys(key for row in rows for key in row))
    _check_width(len(keys), max_columns)
    for key in keys:
        _check_encodable(key)
    columns: dict[str, pl.Series] = {}
    for position, key in enumerate(keys):
        try:
            columns[f"k{position}"] = _text_column([row.get(key) for row in rows], _json_cell)
        except _NestedValueError:
            index = next(i for i, row in enumerate(rows) if isinstance(row.get(key), dict | list))
            raise UnreadableFileError(
                "invalid_json",
                f"rows[{index}].{key} is a list or an object; give text, a number, true, false "
                "or null.",
            ) from None
        except UnicodeEncodeError:
            raise _lone_surrogate(f"A value of '{key}'") from None
    # Rows without a single key are blank rows, and blank rows are dropped anyway.
    frame = pl.DataFrame(columns)
    return _finish(keys, frame, 1, None, limits, keyed=True)


# --- CSV ------------------------------------------------------------------------------------


def _utf8(body: bytes) -> bytes:
    """UTF-8 (with or without a byte order mark) as it is; UTF-16 with a mark and anything that
    is not UTF-8 (Windows-1252, what Excel writes for "CSV" in England) re-encoded as UTF-8."""
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]
    elif body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", errors="replace").encode()
    if not _is_utf8(body):
        return body.decode("cp1252", errors="replace").encode()
    return body


def _is_utf8(body: bytes) -> bool:
    """Checked a piece at a time: decoding the whole body made a string as large as it, only
    to be dropped (a 70 MB list: 70 MB of new pages for nothing)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(body)
    try:
        for start in range(0, len(view), _UTF8_PIECE):
            decoder.decode(view[start : start + _UTF8_PIECE])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _first_records(text: str, separator: str) -> list[list[str]]:
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text), delimiter=separator):
            records.append(record)
            if len(records) == HEADING_SEARCH_ROWS:
                break
    except csv.Error:
        pass  # the sample may end inside a quoted cell; the records before it are enough
    return records


def _sniff(sample: str, matcher: HeadingMatcher, width: int) -> tuple[str, int, list[str]]:
    """The separator whose reading gives the best heading row, that row's index and cells.
    Rows are looked at only ``width`` cells wide: a wider heading row is refused anyway."""
    best: tuple[int, int, str, int, list[str]] | None = None
    for separator in _SEPARATORS:
        records = [record[:width] for record in _first_records(sample, separator)]
        index = heading_row_index(matcher, records) if records else 0
        cells = records[index] if records else []
        matched = sum(1 for cell in cells if matcher.field_for(cell) is not None)
        score = (matched, len(cells), separator, index, cells)
        if best is None or score[:2] > best[:2]:
            best = score
    assert best is not None
    return best[2], best[3], best[4]


def _read_csv(body: bytes, matcher: HeadingMatcher, limits: Limits, max_columns: int) -> RawTable:
    data = _utf8(body)
    sample = data[:_SNIFF_CHARS].decode("utf-8", errors="ignore")
    separator, index, headings = _sniff(sample, matcher, max_columns + 1)
    if not headings:
        return _finish([], pl.DataFrame(), 1, None, limits)
    # The heading row read whole (within the sample) decides the width polars would read.
    _check_width(len(_first_records(sample, separator)[index]), max_columns)
    cap = limits.max_rows + 2  # the heading row and one row too many
    frame = _polars_csv(data, separator, index, cap)
    if frame.height == cap:  # cut short by the cap, so count without blank rows
        _finish(headings, frame.slice(1), index + 2, index + 1, limits)
        frame = _polars_csv(data, separator, index, None)
    # Python's csv module and polars could split a heading row differently only on malformed
    # quoting; the frame's width is the one that counts.
    headings = (headings + [""] * frame.width)[: frame.width]
    return _finish(headings, frame.slice(1), index + 2, index + 1, limits)


def _polars_csv(data: bytes, separator: str, skip: int, n_rows: int | None) -> pl.DataFrame:
    try:
        # Read from the heading row, without treating it as one, so the frame is as wide as
        # the headings; longer rows are cut to that width (their extra cells have no heading).
        return pl.read_csv(
            data,
            has_header=False,
            separator=separator,
            skip_rows=skip,
            n_rows=n_rows,
            infer_schema=False,
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as exc:
        raise UnreadableFileError("invalid_csv", f"The CSV file cannot be read: {exc}") from None


# --- XLSX -----------------------------------------------------------------------------------


def _read_xlsx(body: bytes, matcher: HeadingMatcher, sheet: str | None, limits: Limits) -> RawTable:
    cap = limits.max_rows + HEADING_SEARCH_ROWS + 1
    rows, height, name = xlsx.read_sheet(body, sheet, cap)
    table = _table_from_rows(rows, matcher, limits)
    if len(rows) == cap and height > cap:  # cut short by the cap but under it once blank rows
        rows, _, _ = xlsx.read_sheet(body, sheet, None)  # are gone: read the rest after all
        table = _table_from_rows(rows, matcher, limits)
    return replace(table, sheet=name)


def _table_from_rows(
    rows: list[list[xlsx.Cell]], matcher: HeadingMatcher, limits: Limits
) -> RawTable:
    top = [[xlsx.cell_text(cell) for cell in row] for row in rows[:HEADING_SEARCH_ROWS]]
    index = heading_row_index(matcher, top) if top else 0
    headings = [cell or "" for cell in top[index]] if top else []
    data = rows[index + 1 :]
    columns = zip_longest(*data) if data else ([] for _ in headings)
    frame = pl.DataFrame(
        {column_name(i): _text_column(column, xlsx.cell_text) for i, column in enumerate(columns)}
    )
    return _finish(headings, frame, index + 2, index + 1, limits)
