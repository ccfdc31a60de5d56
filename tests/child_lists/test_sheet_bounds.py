"""The declared-size check of worksheets: its patterns match exactly what lies beyond a limit."""

from __future__ import annotations

import io
import random
import re
import zipfile

import pytest
from openpyxl import Workbook

from app.child_lists.parsing.types import Limits, UnreadableFileError
from app.child_lists.parsing.xlsx import SheetBounds, _letters_above, _numbers_above, check_zip


def _column_name(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@pytest.mark.parametrize("limit", [1, 9, 10, 26, 88, 99, 500_010, 1_048_576])
def test_numbers_above_a_limit(limit: int) -> None:
    pattern = re.compile(_numbers_above(limit))
    picks = [*range(max(limit - 30, 0), limit + 30), *random.sample(range(10**8), 200)]
    for number in picks:
        assert bool(pattern.fullmatch(str(number))) == (number > limit), number


@pytest.mark.parametrize("limit", [1, 25, 26, 27, 52, 88, 702, 703, 16_384])
def test_columns_above_a_limit_in_either_case(limit: int) -> None:
    pattern = re.compile(_letters_above(limit))
    for number in [*range(1, 1_000), *random.sample(range(1, 20_000), 300)]:
        name = _column_name(number)
        for written in (name, name.lower()):
            assert bool(pattern.fullmatch(written)) == (number > limit), written


@pytest.mark.parametrize(
    ("xml", "beyond"),
    [
        (b'<dimension ref="A1:XFD1048576"/>', "declares the range A1:XFD1048576"),
        (b'<row r="1"><c r="XFD1" t="s">', "has a cell or row at XFD1"),
        (b'<row r="500011">', "has a cell or row at 500011"),
        (b'<x:row\tr="600000">', "has a cell or row at 600000"),
        (b'<c s="1" r="ck5">', "has a cell or row at ck5"),
        (b'<c r="A0500011"/>', "has a cell or row at A0500011"),
        (b"<row>" * 500_011, "has more than 500,010 rows"),
        (b"<c r='XFD1'>", "has a cell or row at XFD1"),  # either quote, as XML allows
        (b'<c r = "XFD1">', "has a cell or row at XFD1"),  # and space around '='
        (b"<dimension ref = 'A1:XFD1048576'/>", "declares the range A1:XFD1048576"),
        (b'<dimension ref="A1:CJ500010"/><row r="500010"><c r="CJ500010"/>', None),
    ],
)
def test_what_a_sheet_reaches(xml: bytes, beyond: str | None) -> None:
    bounds = SheetBounds(max_rows=500_010, max_columns=88)
    bounds.measure(xml)
    assert bounds.beyond == beyond


@pytest.mark.parametrize("part", ["xl/data/list.xml", "xl/worksheets/sheet1.bin"])
def test_a_sheet_kept_outside_the_usual_folder_or_name_is_still_measured(part: str) -> None:
    """Moved out of worksheets/, or given another suffix (the attacker's pass: a sheet named
    .bin skipped every check and reached calamine)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Children"
    sheet["A1"] = "Child unique ID"
    plain = io.BytesIO()
    workbook.save(plain)
    moved = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source,
        zipfile.ZipFile(moved, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info).replace(
                b"worksheets/sheet1.xml", part.removeprefix("xl/").encode()
            )
            if info.filename == "xl/worksheets/sheet1.xml":
                target.writestr(part, data.replace(b'r="A1"', b'r="A900000"'))
            else:
                target.writestr(info.filename, data)
    with pytest.raises(UnreadableFileError, match="'Children' has a cell or row at A900000"):
        check_zip(moved.getvalue(), Limits(), max_columns=88)
