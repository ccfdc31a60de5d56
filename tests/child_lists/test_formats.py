"""Every way a list arrives: JSON, CSV in its encodings and separators, .xlsx in both layouts."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import pytest

from app.child_lists.parsing.types import UnsupportedMediaTypeError
from app.themes.schema.lists import ListSpec
from app.themes.schema.theme import Theme
from tests.child_lists.helpers import (
    CSV,
    JSON,
    XLSX,
    cin_row,
    grid,
    headings_of,
    run,
    to_csv,
    to_json,
    to_xlsx,
)


def test_json_rows_by_field_key(mh: Theme, cin: ListSpec) -> None:
    result = run(to_json([cin_row(), cin_row(child_id="C2")]), JSON, cin, mh)

    assert result.accepted, result.problems
    assert result.row_numbers == [1, 2]
    first, second = result.rows
    assert first["gender"] == "M"
    assert first["date_of_birth"] == date(2007, 3, 15)
    assert first["age_years"] == 12
    assert first["primary_need"] == "N1"
    assert second["child_id"] == "C2"
    assert result.headings["child_id"] == "child_id"


def test_json_rows_by_heading(mh: Theme, cin: ListSpec) -> None:
    row = {f.heading: v for k, v in cin_row().items() if (f := cin.field(k))}
    result = run(to_json([row]), JSON, cin, mh)

    assert result.accepted, result.problems
    assert result.rows[0]["primary_need"] == "N1"
    assert result.headings["Child Unique ID"] == "child_id"


def test_json_key_and_heading_for_one_field_is_a_duplicate(mh: Theme, cin: ListSpec) -> None:
    result = run(to_json([cin_row(), {"Child Unique ID": "C2"}]), JSON, cin, mh)

    problem = result.problems[0]
    assert (problem.code, problem.column, problem.row) == (
        "duplicate_column",
        "Child Unique ID",
        None,
    )


def test_json_problem_column_is_the_field_key(mh: Theme, cin: ListSpec) -> None:
    result = run(to_json([cin_row(), cin_row(child_id="C2", gender="Robot")]), JSON, cin, mh)

    (problem,) = result.problems
    assert (problem.row, problem.column, problem.field) == (2, "gender", "gender")
    assert (problem.code, problem.value, problem.severity) == ("invalid_code", "Robot", "error")


def test_json_numbers_and_booleans(mh: Theme, cin: ListSpec) -> None:
    row = cin_row(age_years=12.0, mh_concern=False, mh_support_need=True, child_id=1234)
    row.update(dict.fromkeys(_FOLLOW_UP, "N"))
    result = run(to_json([row]), JSON, cin, mh)

    assert result.accepted, result.problems
    (stored,) = result.rows
    assert (stored["age_years"], stored["child_id"]) == (12, "1234")
    assert (stored["mh_concern"], stored["mh_support_need"]) == ("N", "Y")


_FOLLOW_UP = (
    "camhs_referred",
    "camhs_receiving",
    "camhs_waiting_list",
    "camhs_referral_not_accepted",
    "mh_intervention_6m",
    "multi_agency_involvement",
    "known_to_yot",
    "police_investigation",
)


def test_csv_utf8_with_bom(mh: Theme, cin: ListSpec) -> None:
    body = b"\xef\xbb\xbf" + to_csv(*grid(cin, [cin_row(allocated_worker="Zoé Brontë")]))
    result = run(body, CSV, cin, mh)

    assert result.accepted, result.problems
    assert result.rows[0]["allocated_worker"] == "Zoé Brontë"
    assert "Child Unique ID" in result.headings  # the mark is not part of the first heading


def test_csv_windows_1252(mh: Theme, cin: ListSpec) -> None:
    rows = [cin_row(allocated_team="Café £5 team", allocated_worker="Renée")]
    body = to_csv(*grid(cin, rows), encoding="cp1252")
    result = run(body, CSV, cin, mh)

    assert result.accepted, result.problems
    assert result.rows[0]["allocated_team"] == "Café £5 team"
    assert result.rows[0]["allocated_worker"] == "Renée"


def test_csv_semicolons_and_quoted_commas(mh: Theme, cin: ListSpec) -> None:
    rows = [cin_row(allocated_team="North; East, and West"), cin_row(child_id="C2")]
    body = to_csv(*grid(cin, rows), separator=";")
    result = run(body, "text/csv; charset=utf-8", cin, mh)

    assert result.accepted, result.problems
    assert [r["allocated_team"] for r in result.rows] == ["North; East, and West", "Team A"]
    assert result.row_numbers == [2, 3]


def test_csv_quoted_line_breaks_count_as_one_row(mh: Theme, cin: ListSpec) -> None:
    rows = [cin_row(allocated_team="Team\nwith two lines"), cin_row(child_id="C2", gender="?")]
    result = run(to_csv(*grid(cin, rows)), CSV, cin, mh)

    assert result.rows[0]["allocated_team"] == "Team\nwith two lines"
    assert [(p.row, p.code) for p in result.problems] == [(3, "invalid_code")]


def test_csv_blank_rows_and_trailing_empty_columns_are_ignored(mh: Theme, cin: ListSpec) -> None:
    headings, cells = grid(cin, [cin_row(), cin_row(child_id="C2", gender="?")])
    body = to_csv([*headings, "", ""], [cells[0] + ["", ""], [""] * 26, cells[1] + ["", ""]])
    body = body.replace(b"\r\n", b"\r\n\r\n", 1)  # and a truly empty line after the headings
    result = run(body, CSV, cin, mh)

    assert result.row_numbers == [3, 5]
    assert [(p.row, p.code) for p in result.problems] == [(5, "invalid_code")]


def test_csv_title_rows_above_the_headings(mh: Theme, cin: ListSpec) -> None:
    body = to_csv(*grid(cin, [cin_row(gender="?")]), title="List 6: Children in need")
    result = run(body, CSV, cin, mh)

    assert [(p.row, p.column) for p in result.problems] == [(3, "Gender")]


def test_plain_xlsx_first_sheet(mh: Theme, cin: ListSpec) -> None:
    body = to_xlsx(*grid(cin, [cin_row(), cin_row(child_id="C2", age_years="x")]))
    result = run(body, XLSX, cin, mh)

    assert result.row_numbers == [2, 3]
    assert result.sheet == "Sheet1"  # told to the user: the sheet that was read
    assert result.rows[0]["gender"] == "M"
    assert [(p.row, p.column, p.code) for p in result.problems] == [
        (3, "Age of Child (Years)", "invalid_integer")
    ]


def test_ofsted_workbook_layout(mh: Theme, cin: ListSpec) -> None:
    rows = [cin_row(), cin_row(child_id="C2", primary_need="N77")]
    body = to_xlsx(
        *grid(cin, rows),
        sheet="List_6",
        title="List 6: Children in need",
        sheets_before=["Front_Sheet", "Guidance", "List_1"],
    )
    result = run(body, XLSX, cin, mh)

    assert result.row_numbers == [3, 4]
    assert result.sheet == "List_6"
    assert result.rows[0]["primary_need"] == "N1"
    assert [(p.row, p.column, p.code) for p in result.problems] == [
        (4, "Primary Need Code", "invalid_code")
    ]


def test_excel_cells_keep_their_meaning(mh: Theme, cin: ListSpec) -> None:
    row = cin_row(
        child_id=1234,
        date_of_birth=datetime(2007, 3, 15),
        age_years=12,
        cin_start_date=date(2019, 2, 1),
        last_seen_date=datetime(2019, 9, 1, 14, 30),
    )
    result = run(to_xlsx(*grid(cin, [row])), XLSX, cin, mh)

    assert result.accepted, result.problems
    (stored,) = result.rows
    assert stored["child_id"] == "1234"
    assert stored["date_of_birth"] == date(2007, 3, 15)
    assert stored["last_seen_date"] == date(2019, 9, 1)
    assert stored["age_years"] == 12


def test_every_format_gives_the_same_rows(mh: Theme, cin: ListSpec) -> None:
    rows = [cin_row(), cin_row(child_id="C2", case_status="e) Closed episode")]
    headings, cells = grid(cin, rows)
    results = [
        run(to_json(rows), JSON, cin, mh),
        run(to_csv(headings, cells), CSV, cin, mh),
        run(to_xlsx(headings, cells), XLSX, cin, mh),
    ]

    assert results[0].rows == results[1].rows == results[2].rows
    assert len(results[0].rows[0]) == len(cin.fields)
    assert results[1].frame.equals(results[2].frame)


def test_chunked_body(mh: Theme, cin: ListSpec) -> None:
    body = to_csv(*grid(cin, [cin_row()]))
    result = run([body[:10], body[10:50], body[50:]], CSV, cin, mh)

    assert result.accepted, result.problems


def test_a_partial_list_of_headings(mh: Theme, cin: ListSpec) -> None:
    required = [f.key for f in cin.fields if f.required] + ["mh_concern", "mh_support_need"]
    rows = [{k: v for k, v in cin_row().items() if k in required}]
    body = to_csv(headings_of(cin, required), [[rows[0][k] for k in required]])
    result = run(body, CSV, cin, mh)

    assert result.accepted, result.problems
    assert result.rows[0]["cin_start_date"] is None


@pytest.mark.parametrize("media_type", ["text/plain", "application/xml", "", "application/pdf"])
def test_unsupported_media_type(mh: Theme, cin: ListSpec, media_type: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as raised:
        run(b"whatever", media_type, cin, mh)

    assert raised.value.code == "unsupported_media_type"
    assert "text/csv" in raised.value.message


def test_a_hidden_first_sheet_is_passed_over(mh: Theme, cin: ListSpec) -> None:
    workbook = openpyxl.load_workbook(
        io.BytesIO(to_xlsx(*grid(cin, [cin_row()]), sheet="Mine", sheets_before=["Lookups"]))
    )
    workbook["Lookups"].sheet_state = "hidden"
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run(buffer.getvalue(), XLSX, cin, mh)

    assert result.accepted, result.problems
    assert result.rows[0]["child_id"] == "C1"


def test_the_list_sheet_is_found_whatever_its_case(mh: Theme, cin: ListSpec) -> None:
    body = to_xlsx(*grid(cin, [cin_row()]), sheet="list_6", sheets_before=["Front_Sheet"])

    assert run(body, XLSX, cin, mh).rows[0]["child_id"] == "C1"
