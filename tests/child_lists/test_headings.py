"""Headings as people write them: seed and workbook wording, odd case, spacing and punctuation."""

from __future__ import annotations

from typing import Any

import pytest

from app.child_lists.parsing.headings import HeadingMatcher
from app.themes.schema.lists import ListSpec
from app.themes.schema.theme import Theme
from tests.child_lists.helpers import CSV, XLSX, cin_row, grid, run, to_csv, to_xlsx

_DA_CIN = {
    "Child Unique ID": "D1",
    "Gender": "b) Female",
    "Ethnicity": "Pakistani",
    "Age of Child (Years)": "8",
    "Primary Need Code": "N4",
    "Allocated Team": "East",
    "Allocated Worker": "A Worker",
    "Whether the child is living or has lived with domestic abuse (Y/N)": "Y",
}


@pytest.mark.parametrize(
    ("disability", "cin_start"),
    [
        ("Does the Child have a Disability", "CIN Start Date"),  # Ofsted's workbook
        ("Does the child have a disability? (Y/N)", "Child in need start date"),  # the seed
    ],
)
def test_seed_and_workbook_wordings(da: Theme, disability: str, cin_start: str) -> None:
    spec = da.get_list("children-in-need")
    assert spec is not None
    row = {**_DA_CIN, disability: "c) Unknown", cin_start: "01/02/2019"}
    result = run(to_csv(list(row), [list(row.values())]), CSV, spec, da)

    assert result.accepted, result.problems
    assert result.rows[0]["disability"] == "U"
    assert result.rows[0]["cin_start_date"] is not None
    assert result.headings[cin_start] == "cin_start_date"


def test_case_list_wording_of_the_seed(da: Theme) -> None:
    spec = da.get_list("da-multi-agency")
    assert spec is not None
    headings = [
        "Child's ID number",
        "Whether they are a child in need or on a child protection plan",
    ]
    result = run(to_csv(headings, [["D1", "Child protection plan"]]), CSV, spec, da)

    assert result.rows == [{"child_id": "D1", "case_status": "CP"}]
    assert [p.code for p in result.problems] == ["row_count"]


@pytest.mark.parametrize(
    ("heading", "field"),
    [
        ("  child   UNIQUE id ", "child_id"),
        ("Child_Unique_ID", "child_id"),
        ("CHILD UNIQUE ID:", "child_id"),
        ("child_id", "child_id"),
        ("date of birth", "date_of_birth"),
        ("Is there a concern about the child\u2019s mental health? (Y/N)", "mh_concern"),
        ("Is there a concern about the child's mental health?", "mh_concern"),
        ("Is the child or young person known to the YOT (Y/N)", "known_to_yot"),
        ("Nonsense", None),
    ],
)
def test_odd_case_spacing_and_punctuation(cin: ListSpec, heading: str, field: str | None) -> None:
    assert HeadingMatcher(cin).field_for(heading) == field


def test_workbook_aliases_and_curly_quotes(mh: Theme) -> None:
    spec = mh.get_list("assessments")
    assert spec is not None
    matcher = HeadingMatcher(spec)
    for heading in (
        "Was the child assessed as requiring LA children\u2019s social care support",
        "Was the child assessed as requiring LA children's social care support?",
        "Was the child assessed as being in need at assessment?",
    ):
        assert matcher.field_for(heading) == "requires_csc_support"


def test_trailing_space_in_the_workbook_heading(mh: Theme) -> None:
    spec = mh.get_list("looked-after")
    assert spec is not None
    assert HeadingMatcher(spec).field_for("Date Ceased to be Looked After") == "cla_end_date"


def test_unknown_heading_is_named_as_written(mh: Theme, cin: ListSpec) -> None:
    headings, cells = grid(cin, [cin_row()])
    body = to_xlsx([*headings, "Favourite Colour "], [[*cells[0], "blue"]], title="List 6")
    result = run(body, XLSX, cin, mh)

    assert not result.accepted
    (problem,) = result.problems
    assert (problem.code, problem.row, problem.column) == ("unknown_heading", 2, "Favourite Colour")
    assert result.headings["Child Unique ID"] == "child_id"
    assert "Favourite Colour" in problem.message
    assert problem.severity == "error"


def test_missing_required_column(mh: Theme, cin: ListSpec) -> None:
    keys = [f.key for f in cin.fields if f.key != "primary_need"]
    headings, cells = grid(cin, [cin_row()])
    index = [f.key for f in cin.fields].index("primary_need")
    body = to_csv(
        [h for i, h in enumerate(headings) if i != index],
        [[c for i, c in enumerate(cells[0]) if i != index]],
    )
    result = run(body, CSV, cin, mh)

    assert "primary_need" not in keys
    (problem,) = result.problems
    assert (problem.code, problem.field, problem.column) == (
        "missing_column",
        "primary_need",
        "Primary Need Code",
    )
    assert not result.accepted
    assert result.rows[0]["primary_need"] is None


def test_two_columns_for_one_field(mh: Theme, cin: ListSpec) -> None:
    headings, cells = grid(cin, [cin_row()])
    body = to_csv([*headings, "child unique id"], [[*cells[0], "C9"]])
    result = run(body, CSV, cin, mh)

    assert [(p.code, p.column) for p in result.problems] == [
        ("duplicate_column", "child unique id")
    ]
    assert result.rows[0]["child_id"] == "C1"


def test_values_under_no_heading(mh: Theme, cin: ListSpec) -> None:
    headings, cells = grid(cin, [cin_row()])
    body = to_csv([*headings, ""], [[*cells[0], "stray"]])
    result = run(body, CSV, cin, mh)

    assert [p.code for p in result.problems] == ["missing_heading"]
    assert "Column 25" in result.problems[0].message


def test_the_heading_row_is_the_first_that_reads_as_one(mh: Theme, cin: ListSpec) -> None:
    headings, cells = grid(cin, [cin_row(gender="?")])
    rows: list[list[Any]] = [["Child Unique ID is required"], [None], headings, *cells]
    result = run(to_xlsx(["Local authority: Anytown"], rows), XLSX, cin, mh)

    assert result.headings["Gender"] == "gender"
    assert [(p.row, p.code) for p in result.problems] == [(5, "invalid_code")]


def test_no_heading_row_reports_every_heading(mh: Theme, cin: ListSpec) -> None:
    result = run(to_csv(["a", "b"], [["1", "2"]]), CSV, cin, mh)

    found = [(p.code, p.column) for p in result.problems]
    assert found[:2] == [("unknown_heading", "a"), ("unknown_heading", "b")]
    assert {code for code, _ in found[2:]} == {"missing_column"}
