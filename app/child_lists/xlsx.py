"""Reading an .xlsx body safely and fast.

The zip is checked before any parser sees it: declared sizes and ratios against the limits, and
every XML part inflated here (so a member that inflates beyond the size its header declares is
caught whichever reader comes next) and scanned for DTDs, which only entity tricks (billion
laughs, external entities) need in a workbook. Cells are then read with python-calamine.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from app.child_lists.model import BodyTooLargeError, Limits, UnreadableFileError

Cell = int | float | str | bool | time | date | datetime | timedelta

_XML_SUFFIXES = (".xml", ".rels", ".vml")
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")
_CHUNK = 1024**2
_LOCAL_HEADER = struct.Struct("<4s22xHH")
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_zip(body: bytes, limits: Limits) -> None:
    """Refuse zip bombs and XML with document type or entity declarations."""
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
    for info in infos:
        if info.filename.lower().endswith(_XML_SUFFIXES):
            _scan(body, info)


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


def _scan(body: bytes, info: zipfile.ZipInfo) -> None:
    tail = b""
    for chunk in _inflate(body, info):
        # Keep the end of the previous chunk so a declaration split across two is still seen.
        window = tail + chunk
        if any(token in window for token in _FORBIDDEN):
            raise UnreadableFileError(
                "xml_entities",
                f"The workbook was refused: '{info.filename}' declares a document type or "
                "entities, which Excel never writes. Save the file again from Excel.",
            )
        tail = window[-16:]


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
) -> tuple[list[list[Cell]], int]:
    """The rows of the sheet named ``preferred`` (compared ignoring case) or else of the first
    worksheet, from A1, and the sheet's full height."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(body))
        sheet = workbook.get_sheet_by_name(_sheet_name(workbook, preferred))
        return sheet.to_python(skip_empty_area=False, nrows=nrows), sheet.total_height
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
