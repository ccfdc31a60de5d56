"""The Excel template for one list of a theme: fill it in and push it back unchanged.

It follows the Ofsted workbook's layout (a sheet named List_N, a title in row 1, headings in
row 2) so the same reader handles both, with drop-downs for coded columns and date formats.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from app.themes.schema.lists import FieldSpec, ListSpec
from app.themes.schema.theme import Theme

DATA_ROWS = 5000  # drop-downs and formats reach this far down the sheet
TYPE_WORDS = {
    "text": "text",
    "date": "date, dd/mm/yyyy",
    "code": "one of the codes listed",
    "yes_no": "Y or N",
    "integer": "whole number",
}


def build_template(theme: Theme, spec: ListSpec) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = spec.workbook_sheet or spec.key[:31]
    codes = workbook.create_sheet("Codes")
    _write_list_sheet(theme, spec, sheet, codes)
    _write_instructions(theme, spec, workbook.create_sheet("Instructions"))
    codes.sheet_state = "hidden"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_list_sheet(theme: Theme, spec: ListSpec, sheet: Worksheet, codes: Worksheet) -> None:
    sheet.cell(row=1, column=1, value=f"{theme.title}: {spec.title}").font = Font(bold=True)
    for column, field in enumerate(spec.fields, start=1):
        heading = sheet.cell(row=2, column=column, value=field.heading)
        heading.font = Font(bold=True)
        letter = get_column_letter(column)
        sheet.column_dimensions[letter].width = max(14, min(40, len(field.heading)))
        _constrain_column(theme, field, sheet, codes, column)
    sheet.freeze_panes = "A3"


def _constrain_column(
    theme: Theme, field: FieldSpec, sheet: Worksheet, codes: Worksheet, column: int
) -> None:
    letter = get_column_letter(column)
    cells = f"{letter}3:{letter}{DATA_ROWS}"
    values = [code.workbook for code in theme.codes_for(field)]
    if values:
        for row, value in enumerate(values, start=1):
            codes.cell(row=row, column=column, value=value)
        source = f"Codes!${letter}$1:${letter}${len(values)}"
        _validate(sheet, cells, DataValidation(type="list", formula1=source, allow_blank=True))
    elif field.type == "date":
        for (cell,) in sheet.iter_rows(
            min_row=3, max_row=DATA_ROWS, min_col=column, max_col=column
        ):
            cell.number_format = "dd/mm/yyyy"
    elif field.type == "integer":
        check = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="-1")
        _validate(sheet, cells, check)


def _validate(sheet: Worksheet, cells: str, validation: DataValidation) -> None:
    validation.error = "Choose a value the guidance allows."
    validation.showErrorMessage = True
    sheet.add_data_validation(validation)
    validation.add(cells)


def _write_instructions(theme: Theme, spec: ListSpec, sheet: Worksheet) -> None:
    sheet.append([spec.title])
    sheet.append([spec.description])
    sheet.append([])
    sheet.append(["Heading", "Type", "Required", "Notes"])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for field in spec.fields:
        notes = field.description or ""
        codes = theme.codes_for(field)
        if codes:
            notes = (notes + " Codes: " + "; ".join(c.workbook for c in codes)).strip()
        sheet.append(
            [field.heading, TYPE_WORDS[field.type], "yes" if field.required else "", notes]
        )
    sheet.column_dimensions["A"].width = 60
    sheet.column_dimensions["D"].width = 100
