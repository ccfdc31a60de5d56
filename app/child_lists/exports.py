"""Lists out as CSV or XLSX with the theme's headings, safe to open in a spreadsheet.

Each row ends with its supplier, the name of the organisation whose contribution it is (a
list compiled jointly has several), in a last column after the theme's own.

Any text cell that a spreadsheet could read as a formula (starting =, +, -, @, tab or carriage
return) is prefixed with a single quote, as the OWASP CSV-injection guidance advises; XLSX
cells are always written as strings, never formulas.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from app.themes.schema.lists import FieldSpec, ListSpec
from app.themes.schema.theme import Theme

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
CSV_MEDIA_TYPE = "text/csv"
SUPPLIER_HEADING = "Supplier"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(text: str) -> str:
    if text.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


# A row's cells keyed by field, and the name of its supplier.
ExportRow = tuple[Mapping[str, Any], str]


def _code_labels(theme: Theme, spec: FieldSpec) -> dict[str, str]:
    return {code.code: code.workbook for code in theme.codes_for(spec)}


class RowFormatter:
    """Turns stored values back into what the workbook would show, so a file round-trips."""

    def __init__(self, theme: Theme, spec: ListSpec) -> None:
        self.fields = spec.fields
        self.codes = {
            field.key: _code_labels(theme, field) for field in spec.fields if field.type == "code"
        }

    def headings(self) -> list[str]:
        return [field.heading for field in self.fields] + [SUPPLIER_HEADING]

    def cells(self, row: ExportRow) -> list[str]:
        data, supplier = row
        texts = [self._text(field, data.get(field.key)) for field in self.fields] + [supplier]
        return [neutralise(text) for text in texts]

    def _text(self, field: FieldSpec, value: Any) -> str:
        if value is None:
            return ""
        if field.type == "date":
            return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        if field.type == "code":
            return self.codes[field.key].get(str(value), str(value))
        return str(value)


def csv_chunks(
    formatter: RowFormatter, rows: Iterable[ExportRow], batch: int = 1000
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")  # the BOM makes Excel read the file as UTF-8
    writer.writerow(formatter.headings())
    for count, row in enumerate(rows, start=1):
        writer.writerow(formatter.cells(row))
        if count % batch == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


def write_xlsx(
    formatter: RowFormatter, rows: Iterable[ExportRow], sheet: str, target: Path
) -> None:
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.append(formatter.headings())
    for row in rows:
        worksheet.append([_string_cell(worksheet, text) for text in formatter.cells(row)])
    workbook.save(target)


def _string_cell(worksheet: Any, text: str) -> Any:
    cell = WriteOnlyCell(worksheet, value=text)
    cell.data_type = "s"  # a string, even if it looks like a number or a formula
    return cell
