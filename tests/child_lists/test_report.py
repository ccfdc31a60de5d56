"""The report: order, the cap on problems kept, counts, and the result's two shapes of rows."""

from __future__ import annotations

from datetime import date

import polars as pl

from app.child_lists.parsing.types import Limits
from app.themes.schema.lists import ListSpec
from app.themes.schema.theme import Theme
from tests.child_lists.helpers import CSV, JSON, cin_row, grid, run, to_csv, to_json


def test_problems_are_capped_but_counted(mh: Theme, cin: ListSpec) -> None:
    rows = [cin_row(child_id=f"C{i}", gender="?", last_seen_date="01/01/2018") for i in range(20)]
    result = run(to_json(rows), JSON, cin, mh, limits=Limits(max_problems=5))

    assert len(result.problems) == 5
    assert (result.problem_count, result.error_count, result.warning_count) == (40, 20, 20)
    assert [(p.row, p.code) for p in result.problems] == [
        (1, "invalid_code"),
        (1, "older_than"),
        (2, "invalid_code"),
        (2, "older_than"),
        (3, "invalid_code"),
    ]
    assert not result.accepted


def test_headings_first_then_the_list_then_rows_in_column_order(mh: Theme, cin: ListSpec) -> None:
    headings, cells = grid(cin, [cin_row(allocated_team=None, gender="?"), cin_row()])
    body = to_csv([*headings, "Extra"], [[*cells[0], "x"], [*cells[1], "y"]])
    result = run(body, CSV, cin, mh)

    assert [(p.row, p.code, p.field) for p in result.problems] == [
        (1, "unknown_heading", None),
        (2, "invalid_code", "gender"),
        (2, "required", "allocated_team"),
        (3, "unique", "child_id"),
    ]


def test_values_are_cut_to_100_characters(mh: Theme, cin: ListSpec) -> None:
    result = run(to_json([cin_row(gender="x" * 150)]), JSON, cin, mh)

    assert result.problems[0].value == "x" * 100


def test_problem_as_dict(mh: Theme, cin: ListSpec) -> None:
    result = run(to_json([cin_row(gender="?")]), JSON, cin, mh)

    assert result.problems[0].as_dict() == {
        "row": 1,
        "column": "gender",
        "field": "gender",
        "code": "invalid_code",
        "message": result.problems[0].message,
        "value": "?",
        "severity": "error",
    }


def test_frame_and_rows(mh: Theme, cin: ListSpec) -> None:
    result = run(to_csv(*grid(cin, [cin_row(), cin_row(child_id="C2")])), CSV, cin, mh)

    assert result.frame.columns == [f.key for f in cin.fields]
    assert result.frame.schema["date_of_birth"] == pl.Date
    assert result.frame.schema["age_years"] == pl.Int64
    assert result.rows == result.frame.to_dicts()
    assert result.rows[0]["date_of_birth"] == date(2007, 3, 15)
    assert result.row_count == 2
    assert result.row_numbers == [2, 3]


def test_an_empty_list(mh: Theme, cin: ListSpec) -> None:
    result = run(to_json([]), JSON, cin, mh)

    assert result.rows == []
    assert result.accepted
    assert result.frame.columns == [f.key for f in cin.fields]

    csv_result = run(to_csv([f.heading for f in cin.fields], []), CSV, cin, mh)
    assert csv_result.rows == []
    assert csv_result.accepted

    empty = run(b"", CSV, cin, mh)
    assert empty.rows == []
    assert {p.code for p in empty.problems} == {"missing_column"}
