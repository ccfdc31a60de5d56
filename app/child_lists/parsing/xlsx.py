"""Reading an .xlsx body safely and fast.

The zip is checked before any parser sees it: declared sizes and ratios against the limits, and
every XML part inflated here (so a member that inflates beyond the size its header declares is
caught whichever reader comes next) and scanned for DTDs, which only entity tricks (billion
laughs, external entities) need in a workbook. Cells are then read with python-calamine.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import polars as pl
from defusedxml import ElementTree
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from app.child_lists.parsing.types import BodyTooLargeError, Limits, UnreadableFileError

Cell = int | float | str | bool | time | date | datetime | timedelta

_XML_SUFFIXES = (".xml", ".rels", ".vml")
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")
_CHUNK = 1024**2
_LOCAL_HEADER = struct.Struct("<4s22xHH")
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Rows a sheet may have beyond the list's own: a title and the headings (Ofsted's layout).
SHEET_ROWS_ABOVE_DATA = 10
# <dimension ref="A1:D9"> and <row ...>, with or without a namespace prefix (polars patterns).
# XML allows either quote and white space around '=' in attributes, and so does calamine.
_EQUALS = r"""[ \t\r\n]*=[ \t\r\n]*["']"""
_DIMENSION = rf"""<(?:[A-Za-z0-9_]+:)?dimension[ \t\r\n][^>]*?ref{_EQUALS}([^"']*)["']"""
_ROW_TAG = r"<(?:[A-Za-z0-9_]+:)?row[ \t\r\n/>]"
_CELL = re.compile(r"([A-Za-z]{1,7})?([0-9]{1,12})?")
_MAX_TAG = 64 * 1024
# XML measured in one polars pass (see SheetBounds.measure).
_BATCH_BYTES = 16 * 1024**2
_SHEETS_FOLDER = "xl/worksheets/"
_NAMES_MAX = 4 * 1024**2
_RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def check_zip(body: bytes, limits: Limits, max_columns: int) -> None:
    """Refuse zip bombs, XML with document type or entity declarations, and sheets that declare
    or place cells beyond ``limits.max_rows`` rows (plus a few above the headings) or
    ``max_columns`` columns: calamine allocates a sheet's whole range before reading a cell."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(body)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError):
        raise UnreadableFileError("invalid_xlsx", _not_a_zip(body)) from None
    if sum(info.file_size for info in infos) > limits.max_uncompressed_bytes:
        raise _bomb(f"it would unpack to more than {limits.max_uncompressed_bytes:,} bytes")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor_bytes and ratio > limits.max_compression_ratio:
            raise _bomb(
                f"'{info.filename}' is compressed more than {limits.max_compression_ratio}:1"
            )
    names = _sheet_names(body, infos)
    for info in infos:
        # Other members (a theme's drawing attributes, say) have r="..." of other meanings.
        is_sheet = info.filename in names or info.filename.startswith(_SHEETS_FOLDER)
        # A sheet is scanned whatever its part is called: calamine reads the part the workbook
        # names, so "sheet1.bin" holding XML would otherwise reach it unchecked.
        if is_sheet or info.filename.lower().endswith(_XML_SUFFIXES):
            bounds = SheetBounds(limits.max_rows + SHEET_ROWS_ABOVE_DATA, max_columns)
            _scan(body, info, bounds if is_sheet else None)
            bounds.check(names.get(info.filename, info.filename))


def _not_a_zip(body: bytes) -> str:
    if body.startswith(_OLE_SIGNATURE):
        # Password-protected .xlsx files are OLE containers too, like the old .xls format.
        return (
            "The file is an old-style .xls workbook or a password-protected one. Save it as an "
            ".xlsx workbook without a password."
        )
    return "The file is not an Excel .xlsx workbook (it is not a zip archive)."


def _bomb(why: str) -> BodyTooLargeError:
    return BodyTooLargeError("zip_bomb", f"The workbook was refused: {why}.")


def _scan(body: bytes, info: zipfile.ZipInfo, bounds: SheetBounds | None) -> None:
    """Inflate one XML member, refusing DTDs and measuring the cells it declares or places."""
    tail = b""
    for chunk in _inflate(body, info):
        # Keep the end of the previous chunk so a declaration split across two is still seen.
        window = tail + chunk
        # Both begin with "<!", which an ordinary sheet never holds: one search, not two.
        if b"<!" in window and any(token in window for token in _FORBIDDEN):
            raise UnreadableFileError(
                "xml_entities",
                f"The workbook was refused: '{info.filename}' declares a document type or "
                "entities, which Excel never writes. Save the file again from Excel.",
            )
        # A tag cut at the chunk's end is measured with the next chunk, not twice.
        cut = window.rfind(b"<")
        whole = window if cut < 0 or b">" in window[cut:] else window[:cut]
        if bounds is not None:
            bounds.measure(whole)
        tail = window[len(whole) :] if len(window) - len(whole) <= _MAX_TAG else b""
        tail = tail or window[-16:]


class SheetBounds:
    """Finds the first place where a worksheet goes beyond ``max_rows`` rows or ``max_columns``
    columns: its declared ``<dimension>``, a row or cell reference, or its number of rows.

    The references are matched by a pattern that matches only numbers and column letters
    beyond the limits, run by polars' regex engine (linear time, no backtracking): a sheet of a
    hundred thousand ordinary rows costs one scan and no Python per cell.
    """

    def __init__(self, max_rows: int, max_columns: int) -> None:
        self.max_rows, self.max_columns = max_rows, max_columns
        self.rows = 0
        self._beyond: str | None = None
        self._far = _beyond_pattern(max_rows, max_columns)
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    @property
    def beyond(self) -> str | None:
        self._flush()
        return self._beyond

    def measure(self, xml: bytes) -> None:
        """Measure a stretch of the XML (whole tags), in batches: one polars pass over many
        stretches costs a third of a pass over each (a sheet of 100,000 rows: 0.3 s of CPU,
        not 0.75)."""
        if self._beyond is not None:
            return
        self._pending.append(xml)
        self._pending_bytes += len(xml)
        if self._pending_bytes >= _BATCH_BYTES:
            self._flush()

    def _flush(self) -> None:
        windows, self._pending, self._pending_bytes = self._pending, [], 0
        if not windows or self._beyond is not None:
            return
        texts = _texts(windows)
        found = pl.select(
            texts.str.count_matches(_ROW_TAG).alias("rows"),
            texts.str.extract(self._far, 1).alias("far"),
        )
        # A dimension is looked for only where its name is: one stretch of a sheet, not all.
        dimensions = {
            i: texts[i : i + 1].str.extract(_DIMENSION, 1).item()
            for i, window in enumerate(windows)
            if b"dimension" in window
        }
        for i, (rows, far) in enumerate(found.iter_rows()):
            self.rows += rows
            dimension = dimensions.get(i)
            if dimension is not None and self._too_far(dimension.split(":")[-1]):
                self._beyond = f"declares the range {dimension}"
            elif far is not None:
                self._beyond = f"has a cell or row at {far}"
            elif self.rows > self.max_rows:
                self._beyond = f"has more than {self.max_rows:,} rows"
            if self._beyond is not None:
                return

    def _too_far(self, reference: str) -> bool:
        match = _CELL.fullmatch(reference.replace("$", ""))
        if match is None:
            return False
        column = 0
        for letter in (match.group(1) or "").upper():
            column = column * 26 + ord(letter) - 64
        return int(match.group(2) or 0) > self.max_rows or column > self.max_columns

    def check(self, sheet: str) -> None:
        if self.beyond is not None:
            raise UnreadableFileError(
                "sheet_too_large",
                f"The sheet '{sheet}' {self.beyond}; a list may have at most "
                f"{self.max_rows:,} rows and {self.max_columns:,} columns. Delete the rows and "
                "columns beyond the list (Excel counts formatted empty cells too).",
            )


def _texts(windows: list[bytes]) -> pl.Series:
    """Stretches of XML as text for polars' patterns: cast from bytes by polars, which checks
    they are UTF-8, rather than decoded into Python strings first (a 100,000-row sheet: 10 ms
    instead of 77 ms and 33,000 page faults). XML that is not UTF-8 is decoded with
    replacements, as it always was."""
    try:
        return pl.Series(windows, dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.ComputeError:
        return pl.Series([w.decode("utf-8", errors="replace") for w in windows], dtype=pl.String)


@lru_cache(maxsize=64)
def _beyond_pattern(max_rows: int, max_columns: int) -> str:
    """A row number or cell reference (``r="..."``) beyond the limits, as calamine reads them:
    letters of either case, then digits."""
    rows, columns = _numbers_above(max_rows), _letters_above(max_columns)
    return rf"""[ \t\r\n]r{_EQUALS}((?:{columns})[0-9]+|[A-Za-z]*0*(?:{rows}))["']"""


def _numbers_above(limit: int) -> str:
    """A pattern matching the decimal numbers greater than ``limit`` (no leading zeros)."""
    digits = str(limit)
    options = [f"[1-9][0-9]{{{len(digits)},}}"]
    for i, digit in enumerate(digits):
        if digit != "9":
            options.append(f"{digits[:i]}[{int(digit) + 1}-9][0-9]{{{len(digits) - i - 1}}}")
    return "|".join(f"(?:{option})" for option in options)


def _letters_above(limit: int) -> str:
    """A pattern matching the column letters after column number ``limit`` (A is 1), in either
    case: longer names, or as long and later in the alphabet."""
    letters = ""
    while limit:
        limit, rest = divmod(limit - 1, 26)
        letters = chr(65 + rest) + letters
    options = [f"[A-Za-z]{{{len(letters) + 1},}}"]
    for i, letter in enumerate(letters):
        if letter != "Z":
            prefix = "".join(f"[{c}{c.lower()}]" for c in letters[:i])
            after = chr(ord(letter) + 1)
            rest = len(letters) - i - 1
            options.append(f"{prefix}[{after}-Z{after.lower()}-z][A-Za-z]{{{rest}}}")
    return "|".join(f"(?:{option})" for option in options)


def _sheet_names(body: bytes, infos: list[zipfile.ZipInfo]) -> dict[str, str]:
    """Worksheet part names to the sheet names a user sees, where the workbook says them."""
    by_name = {info.filename: info for info in infos}
    workbook, rels = by_name.get("xl/workbook.xml"), by_name.get("xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None or max(workbook.file_size, rels.file_size) > _NAMES_MAX:
        return {}
    try:
        sheets = ElementTree.fromstring(b"".join(_inflate(body, workbook)))
        links = ElementTree.fromstring(b"".join(_inflate(body, rels)))
    except (ElementTree.ParseError, ValueError):  # defusedxml's refusals are ValueErrors
        return {}  # the member scan names what is wrong with them
    targets = {
        link.get("Id"): link.get("Target", "") for link in links if link.get("Id") is not None
    }
    names: dict[str, str] = {}
    for sheet in sheets.iter():
        target = targets.get(sheet.get(_RELATIONSHIP_ID))
        if sheet.tag.endswith("}sheet") and target:
            # Resolved as calamine does: absolute from the root, else relative to xl/.
            part = target.lstrip("/") if target.startswith(("/", "xl/")) else f"xl/{target}"
            part = posixpath.normpath(part)
            names[part] = sheet.get("name", part)
    return names


def _inflate(body: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    try:
        signature, name_length, extra_length = _LOCAL_HEADER.unpack_from(body, info.header_offset)
    except struct.error:
        signature = b""
    if signature != b"PK\x03\x04":
        raise UnreadableFileError("invalid_xlsx", f"'{info.filename}' is damaged in the zip.")
    start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    data = memoryview(body)[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        chunks: Iterator[bytes] = (bytes(data[i : i + _CHUNK]) for i in range(0, len(data), _CHUNK))
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        chunks = _deflated(data)
    else:
        raise UnreadableFileError("invalid_xlsx", f"'{info.filename}' uses an unknown compression.")
    produced = 0
    for chunk in chunks:
        produced += len(chunk)
        if produced > info.file_size:
            raise _bomb(f"'{info.filename}' unpacks to more than the size it declares")
        yield chunk


def _deflated(data: memoryview) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for i in range(0, len(data), _CHUNK):
            pending = bytes(data[i : i + _CHUNK])
            # max_length bounds each step, so one small chunk cannot expand into gigabytes.
            while pending:
                yield inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
        yield inflater.flush()
    except zlib.error:
        raise UnreadableFileError("invalid_xlsx", "The workbook's zip data is damaged.") from None


def read_sheet(
    body: bytes, preferred: str | None, nrows: int | None
) -> tuple[list[list[Cell]], int, str]:
    """The rows of the sheet named ``preferred`` (compared ignoring case) or else of the first
    worksheet, from A1, the sheet's full height and its name (told to the user: a list read
    from another sheet than they meant is found empty)."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(body))
        name = _sheet_name(workbook, preferred)
        sheet = workbook.get_sheet_by_name(name)
        return sheet.to_python(skip_empty_area=False, nrows=nrows), sheet.total_height, name
    except CalamineError as exc:
        raise UnreadableFileError("invalid_xlsx", f"The workbook cannot be read: {exc}") from None


def _sheet_name(workbook: CalamineWorkbook, preferred: str | None) -> str:
    names = workbook.sheet_names
    if preferred is not None:
        wanted = preferred.strip().casefold()
        found = next((n for n in names if n.strip().casefold() == wanted), None)
        if found is not None:
            return found
    sheets = [m for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    # A hidden first sheet (look-up tables, say) is not what the user sees as the list.
    visible = [m.name for m in sheets if m.visible == SheetVisibleEnum.Visible]
    if not sheets:
        raise UnreadableFileError("invalid_xlsx", "The workbook has no worksheet.")
    return visible[0] if visible else sheets[0].name


def cell_text(value: object) -> str | None:
    """A cell as text, the way a person reads it in Excel: 3.0 is "3", a date is ISO."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
