"""Cell values: dates, yes/no answers, codes, whole numbers and text, and what is refused."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.child_lists.parsing.types import Limits, Value
from app.themes.schema.lists import ListSpec
from app.themes.schema.theme import Theme
from tests.child_lists.helpers import CSV, JSON, cin_row, grid, run, to_csv, to_json, with_code


def _one(mh: Theme, cin: ListSpec, **overrides: Any) -> tuple[dict[str, Value], list[str]]:
    result = run(to_json([cin_row(**overrides)]), JSON, cin, mh)
    return result.rows[0], [p.code for p in result.problems if p.severity == "error"]


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("01/08/2019", date(2019, 8, 1)),
        ("1/8/2019", date(2019, 8, 1)),
        ("01/08/19", date(2019, 8, 1)),
        ("2019-08-01", date(2019, 8, 1)),
        ("2019-08-01T00:00:00", date(2019, 8, 1)),
        ("01-08-2019", date(2019, 8, 1)),
        ("29/02/2016", date(2016, 2, 29)),
        # Two-digit years: up to next year's are this century (today is in 2019).
        ("01/01/20", date(2020, 1, 1)),
        ("01/01/21", date(1921, 1, 1)),
        ("01/01/00", date(2000, 1, 1)),
        ("01/01/99", date(1999, 1, 1)),
    ],
)
def test_dates(mh: Theme, cin: ListSpec, written: str, stored: date) -> None:
    row, _ = _one(mh, cin, date_of_birth=written)
    assert row["date_of_birth"] == stored


@pytest.mark.parametrize(
    "written", ["31/02/2019", "29/02/2019", "2019-13-01", "08/01", "1st August 2019", "01/08/0019"]
)
def test_invalid_dates(mh: Theme, cin: ListSpec, written: str) -> None:
    result = run(to_json([cin_row(date_of_birth=written)]), JSON, cin, mh)

    (problem,) = with_code(result, "invalid_date")
    assert (problem.field, problem.value, problem.severity) == ("date_of_birth", written, "error")
    assert "dd/mm/yyyy" in problem.message
    assert result.rows[0]["date_of_birth"] is None


@pytest.mark.parametrize(
    ("written", "stored"),
    [("Y", "Y"), ("y", "Y"), ("YES", "Y"), ("a) Yes", "Y"), ("b) No", "N"), ("no", "N")],
)
def test_yes_no(mh: Theme, cin: ListSpec, written: str, stored: str) -> None:
    row, _ = _one(mh, cin, disability=written)
    assert row["disability"] == stored


def test_unknown_only_where_the_field_allows_it(mh: Theme, cin: ListSpec) -> None:
    row, errors = _one(mh, cin, disability="c) Unknown", mh_support_need="Unknown")

    assert row["disability"] == "U"
    assert row["mh_support_need"] is None
    assert errors == ["invalid_yes_no"]


@pytest.mark.parametrize(
    ("field", "written", "stored"),
    [
        ("gender", "a) Male", "M"),
        ("gender", "Male", "M"),
        ("gender", "m", "M"),
        ("gender", "b)Female", "F"),
        ("gender", "c) Not stated/recorded", "U"),
        ("primary_need", "N1 - Abuse or neglect", "N1"),
        ("primary_need", "n1 \u2013 abuse or neglect", "N1"),
        ("primary_need", "N2 - Child's disability", "N2"),
        ("primary_need", "N4", "N4"),
        ("ethnicity", "White British", "WBRI"),
        ("case_status", "d) Open assessment", "ASSESSMENT"),
    ],
)
def test_codes(mh: Theme, cin: ListSpec, field: str, written: str, stored: str) -> None:
    row, errors = _one(mh, cin, **{field: written})

    assert row[field] == stored
    assert "invalid_code" not in errors


def test_invalid_code_names_the_choices(mh: Theme, cin: ListSpec) -> None:
    result = run(to_json([cin_row(gender="Robot")]), JSON, cin, mh)

    (problem,) = result.problems
    assert problem.code == "invalid_code"
    assert "a) Male" in problem.message
    assert "d) Neither" in problem.message


@pytest.mark.parametrize(
    ("written", "stored"), [("12", 12), ("12.0", 12), ("+12", 12), (" 12 ", 12)]
)
def test_whole_numbers(mh: Theme, cin: ListSpec, written: str, stored: int) -> None:
    row, errors = _one(mh, cin, age_years=written)

    assert row["age_years"] == stored
    assert errors == []


@pytest.mark.parametrize(
    ("written", "code"),
    [("12.5", "invalid_integer"), ("twelve", "invalid_integer"), ("-2", "below_minimum")],
)
def test_numbers_refused(mh: Theme, cin: ListSpec, written: str, code: str) -> None:
    result = run(to_json([cin_row(age_years=written)]), JSON, cin, mh)

    assert [(p.code, p.value) for p in result.problems if p.severity == "error"] == [
        (code, written)
    ]


def test_maximum_and_text_limits(mh: Theme, cin: ListSpec) -> None:
    fields = tuple(
        f.model_copy(update={"maximum": 17})
        if f.key == "age_years"
        else f.model_copy(update={"max_length": 10})
        if f.key == "allocated_team"
        else f
        for f in cin.fields
    )
    spec = cin.model_copy(update={"fields": fields})
    row = cin_row(age_years="18", date_of_birth="01/01/2001", allocated_team="A very long team")
    result = run(to_json([row]), JSON, spec, mh)

    assert sorted(p.code for p in result.problems if p.severity == "error") == [
        "above_maximum",
        "too_long",
    ]


def test_postcode_pattern(da: Theme) -> None:
    spec = da.get_list("shortlist-information")
    assert spec is not None
    base = {f.key: "N" for f in spec.fields if f.type == "yes_no"}
    rows = [
        {**base, "child_id": "D1", "postcode": "AB1 2CD"},
        {**base, "child_id": "D2", "postcode": "12345"},
    ]
    result = run(to_json(rows), JSON, spec, da, selections={"shortlist": frozenset({"D1", "D2"})})

    (problem,) = result.problems
    assert (problem.row, problem.code, problem.value) == (2, "pattern_mismatch", "12345")
    assert "postcode" in problem.message


def test_blank_required_value(mh: Theme, cin: ListSpec) -> None:
    result = run(to_csv(*grid(cin, [cin_row(allocated_worker="  ")])), CSV, cin, mh)

    (problem,) = result.problems
    assert (problem.row, problem.code, problem.column) == (2, "required", "Allocated Worker")
    assert problem.value is None


def test_cell_too_long(mh: Theme, cin: ListSpec) -> None:
    long = "x" * 40_000
    result = run(to_csv(*grid(cin, [cin_row(allocated_worker=long)])), CSV, cin, mh)

    (problem,) = result.problems
    assert (problem.code, problem.row, problem.severity) == ("cell_too_long", 2, "error")
    assert problem.value == "x" * 100
    assert result.rows[0]["allocated_worker"] is None


def test_cell_limit_is_a_setting(mh: Theme, cin: ListSpec) -> None:
    result = run(
        to_json([cin_row(date_of_birth="15/03/2007")]),
        JSON,
        cin,
        mh,
        limits=Limits(max_cell_chars=5),
    )

    assert {p.field for p in with_code(result, "cell_too_long")} >= {"date_of_birth"}
    assert with_code(result, "invalid_date") == []


def test_a_pattern_polars_cannot_run_is_checked_in_python(mh: Theme, cin: ListSpec) -> None:
    # Look-behind is outside polars' regular expressions; Python's still applies it.
    fields = tuple(
        f.model_copy(update={"pattern": r"T(?<=T)eam [A-Z]"}) if f.key == "allocated_team" else f
        for f in cin.fields
    )
    spec = cin.model_copy(update={"fields": fields})
    rows = [cin_row(), cin_row(child_id="C2", allocated_team="team b")]
    result = run(to_json(rows), JSON, spec, mh)

    assert [(p.row, p.code) for p in result.problems] == [(2, "pattern_mismatch")]
