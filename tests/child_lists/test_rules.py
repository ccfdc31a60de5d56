"""Every rule kind of the theme schema, reported on the row the user sees, with its severity."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from app.themes.schema.lists import ListSpec
from app.themes.schema.theme import Theme
from tests.child_lists.helpers import (
    CSV,
    JSON,
    TODAY,
    XLSX,
    cin_row,
    grid,
    run,
    to_csv,
    to_json,
    to_xlsx,
    with_code,
)

_COMMON = {"gender": "F", "ethnicity": "WBRI", "allocated_team": "T", "allocated_worker": "W"}
FOLLOW_UP = (
    "camhs_referred",
    "camhs_receiving",
    "camhs_waiting_list",
    "camhs_referral_not_accepted",
    "mh_intervention_6m",
    "multi_agency_involvement",
    "known_to_yot",
    "police_investigation",
)


def _spec(theme: Theme, key: str) -> ListSpec:
    spec = theme.get_list(key)
    assert spec is not None
    return spec


def _row(**values: Any) -> dict[str, Any]:
    return {**_COMMON, **values}


def test_only_for_ages_warns_and_does_not_block(mh: Theme, cin: ListSpec) -> None:
    rows = [cin_row(), cin_row(child_id="C2", date_of_birth="01/01/2003", age_years="16")]
    result = run(to_csv(*grid(cin, rows)), CSV, cin, mh)

    assert result.accepted
    (problem,) = result.problems
    assert (problem.row, problem.code, problem.severity) == (3, "only_for_ages", "warning")
    assert problem.field == "mh_concern"
    assert problem.column == "Is there a concern about the child's mental health? (Y/N)"
    assert "age is 16" in problem.message
    assert (result.warning_count, result.error_count) == (1, 0)


def test_follow_up_questions_required_when_there_is_a_concern(mh: Theme, cin: ListSpec) -> None:
    answered = dict.fromkeys(FOLLOW_UP, "N")
    rows = [cin_row(mh_concern="Y", **answered), cin_row(child_id="C2", mh_support_need="Y")]
    result = run(
        to_xlsx(*grid(cin, rows), sheet="List_6", title="List 6"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        cin,
        mh,
    )

    assert not result.accepted
    found = with_code(result, "required_when")
    assert [p.field for p in found] == list(FOLLOW_UP)
    assert {(p.row, p.severity) for p in found} == {(4, "error")}
    assert all("blank" in p.message for p in found)


def test_a_flagged_16_year_old_needs_no_follow_ups_only_a_warning(mh: Theme, cin: ListSpec) -> None:
    # Para 33 asks the two questions only for 10 to 15-year-olds, and para 34's follow-ups are
    # for "these children": a 16-year-old's flag is a warning, not eight errors.
    blank = dict.fromkeys(FOLLOW_UP)
    old = cin_row(date_of_birth="01/01/2003", age_years="16", mh_concern="Y", **blank)
    unknown_age = cin_row(child_id="C2", age_years=None, mh_concern="Y", **blank)
    result = run(to_json([old, unknown_age]), JSON, cin, mh)

    assert result.accepted is False  # the child of unknown age still owes the follow-ups
    assert {(p.row, p.code) for p in result.problems} == {
        (1, "only_for_ages"),
        *((2, "required_when") for _ in FOLLOW_UP),
    }
    alone = run(to_json([old]), JSON, cin, mh)
    assert alone.accepted
    assert [(p.code, p.severity) for p in alone.problems] == [("only_for_ages", "warning")]


def test_mental_health_questions_required_for_ages_10_to_15(mh: Theme, cin: ListSpec) -> None:
    young = cin_row(
        child_id="C2",
        date_of_birth="01/01/2015",
        age_years="4",
        mh_concern=None,
        mh_support_need=None,
    )
    result = run(to_json([cin_row(mh_concern=None), young]), JSON, cin, mh)

    assert [(p.row, p.field, p.code) for p in result.problems] == [
        (1, "mh_concern", "required_when")
    ]


def test_a_missing_column_some_rows_need_is_reported_once(mh: Theme, cin: ListSpec) -> None:
    rows = [
        {k: v for k, v in cin_row(child_id=f"C{i}").items() if not k.startswith("mh_")}
        for i in range(5)
    ]
    result = run(to_json(rows), JSON, cin, mh)

    assert [(p.row, p.field, p.code) for p in result.problems] == [
        (None, "mh_concern", "missing_column"),
        (None, "mh_support_need", "missing_column"),
    ]
    assert "5 rows" in result.problems[0].message


def test_required_when_a_code_equals(mh: Theme, cin: ListSpec) -> None:
    rows = [cin_row(case_status="e) Closed episode")]
    result = run(to_csv(*grid(cin, rows)), CSV, cin, mh)

    (problem,) = result.problems
    assert (problem.code, problem.field, problem.severity) == (
        "required_when",
        "cin_closure_date",
        "warning",
    )


def test_blank_when(mh: Theme) -> None:
    spec = _spec(mh, "section-47")
    base = _row(
        child_id="C1",
        disability="N",
        s47_strategy_date="01/05/2019",
        s47_prev_12m="0",
        icpc_prev_12m="0",
    )
    rows = [base, {**base, "child_id": "C2", "icpc_unnecessary": "Y", "icpc_date": "01/06/2019"}]
    result = run(to_csv(*grid(spec, rows)), CSV, spec, mh)

    assert result.accepted
    (problem,) = result.problems
    assert (problem.row, problem.code, problem.column, problem.value) == (
        3,
        "blank_when",
        "Date of Initial Child Protection Conference",
        "01/06/2019",
    )


def test_blank_unless(mh: Theme) -> None:
    spec = _spec(mh, "assessments")
    base = _row(child_id="C1", disability="N", assessment_start_date="01/05/2019", child_seen="Y")
    rows = [base, {**base, "child_id": "C2", "requires_csc_support": "Y"}]
    result = run(to_json(rows), JSON, spec, mh)

    assert result.accepted
    assert [(p.row, p.code, p.field, p.severity) for p in result.problems] == [
        (2, "blank_unless", "requires_csc_support", "warning")
    ]


def test_all_or_none(mh: Theme, cin: ListSpec) -> None:
    rows = [cin_row(cin_closure_date="01/06/2019")]
    result = run(to_csv(*grid(cin, rows)), CSV, cin, mh)

    (problem,) = result.problems
    assert (problem.row, problem.code, problem.field) == (2, "all_or_none", "closure_reason")
    assert "'Reason for Closure'" in problem.message


def test_date_order(mh: Theme, cin: ListSpec) -> None:
    rows = [cin_row(cin_closure_date="01/01/2019", closure_reason="RC7")]
    result = run(to_csv(*grid(cin, rows)), CSV, cin, mh)

    # A closure in 2019 is also before the list's six-month window (within_period).
    assert {p.code for p in result.problems} == {"date_order", "within_period"}
    (problem,) = [p for p in result.problems if p.code == "date_order"]
    assert (problem.row, problem.code, problem.column, problem.severity) == (
        2,
        "date_order",
        "CIN Closure Date",
        "error",
    )
    assert "01/02/2019" in problem.message
    assert "01/01/2019" in problem.message


def test_not_in_future(mh: Theme, cin: ListSpec) -> None:
    result = run(to_json([cin_row(cin_start_date="02/10/2019")]), JSON, cin, mh)

    (problem,) = result.problems
    assert (problem.code, problem.field, problem.severity) == (
        "not_in_future",
        "cin_start_date",
        "error",
    )
    assert "01/10/2019" in problem.message


def test_older_than(mh: Theme, cin: ListSpec) -> None:
    rows = [
        cin_row(last_seen_date="30/09/2018"),
        cin_row(child_id="C2", last_seen_date="01/10/2018"),
    ]
    result = run(to_json(rows), JSON, cin, mh)

    assert [(p.row, p.code, p.severity) for p in result.problems] == [(1, "older_than", "warning")]


def test_duplicate_child_ids_name_the_first_row(mh: Theme, cin: ListSpec) -> None:
    rows = [cin_row(), cin_row(child_id="C2"), cin_row(), cin_row(child_id="C3"), cin_row()]
    result = run(to_csv(*grid(cin, rows), title="Children in need"), CSV, cin, mh)

    found = with_code(result, "unique")
    assert [(p.row, p.value, p.severity) for p in found] == [(5, "C1", "error"), (7, "C1", "error")]
    assert all("Row 3 " in p.message for p in found)
    assert result.error_count == 2


def test_same_for_child(mh: Theme) -> None:
    spec = _spec(mh, "referrals")
    base = _row(
        child_id="C1",
        referral_date="01/05/2019",
        referral_source="6",
        referral_nfa="N",
        referrals_prev_12m="2",
    )
    rows = [base, {**base, "child_id": "C2"}, {**base, "referrals_prev_12m": "3"}, base]
    result = run(to_csv(*grid(spec, rows)), CSV, spec, mh)

    (problem,) = result.problems
    assert (problem.row, problem.code, problem.value, problem.severity) == (
        4,
        "same_for_child",
        "3",
        "warning",
    )
    assert "Row 2 " in problem.message


def test_age_matches_birth_date(mh: Theme, cin: ListSpec) -> None:
    rows = [
        cin_row(age_years="11"),
        cin_row(
            child_id="C2",
            date_of_birth="01/12/2019",
            age_years="-1",
            mh_concern=None,
            mh_support_need=None,
        ),
        cin_row(
            child_id="C3",
            date_of_birth="01/12/2019",
            age_years="0",
            mh_concern=None,
            mh_support_need=None,
        ),
        cin_row(child_id="C4", date_of_birth="01/10/2007", age_years="12"),
        cin_row(child_id="C5", date_of_birth="02/10/2007", age_years="11"),
    ]
    result = run(to_json(rows), JSON, cin, mh)

    found = with_code(result, "age_matches_birth_date")
    assert [(p.row, p.value, p.severity) for p in found] == [
        (1, "11", "warning"),
        (3, "0", "warning"),
    ]
    assert "gives 12, not 11" in found[0].message


def test_row_count(da: Theme) -> None:
    spec = _spec(da, "da-multi-agency")
    rows = [{"child_id": f"D{i}", "case_status": "CIN"} for i in range(3)]
    result = run(to_json(rows), JSON, spec, da)

    assert result.accepted
    (problem,) = result.problems
    assert (problem.row, problem.code, problem.severity) == (None, "row_count", "warning")
    assert "Found 3 rows" in problem.message


def test_row_count_where(da: Theme) -> None:
    spec = _spec(da, "da-yot-probation")
    rows = [
        {
            "child_id": f"D{i}",
            "case_status": "CP",
            "yot_involved": "Y",
            "nps_involved": "N",
            "crc_involved": "Y" if i < 6 else "N",
        }
        for i in range(10)
    ]
    assert run(to_json(rows), JSON, spec, da).problems == []

    result = run(to_json(rows[:4]), JSON, spec, da)
    assert [p.message.split("Found ")[1] for p in result.problems] == [
        "4 such rows.",
        "4 such rows.",
    ]


def _shortlist_rows(*ids: str) -> list[dict[str, str]]:
    answers = dict.fromkeys(
        [
            "known_to_yot",
            "nps_working_with_adult",
            "crc_working_with_adult",
            "police_investigation",
            "adult_court_orders",
            "looked_after",
        ],
        "N",
    )
    return [{"child_id": i, **answers, "postcode": "AB1 2CD"} for i in ids]


def test_child_in_selection_and_covers_selection(da: Theme) -> None:
    spec = _spec(da, "shortlist-information")
    chosen = {"shortlist": frozenset({"D1", "D2", "D3"})}
    result = run(
        to_xlsx(*grid(spec, _shortlist_rows("D1", "D9", "D3"))), XLSX, spec, da, selections=chosen
    )

    assert [(p.row, p.code, p.value, p.severity) for p in result.problems] == [
        (None, "covers_selection", "D2", "warning"),
        (3, "child_in_selection", "D9", "error"),
    ]
    assert result.problems[1].column == "Child Unique ID"


def test_a_selection_not_made_yet_is_one_error(da: Theme) -> None:
    spec = _spec(da, "shortlist-information")
    result = run(to_json(_shortlist_rows("D1", "D2")), JSON, spec, da)

    (problem,) = result.problems
    assert (problem.code, problem.severity, problem.value) == (
        "selection_not_made",
        "error",
        "shortlist",
    )
    assert "has not been made yet" in problem.message
    assert not result.accepted


@pytest.mark.parametrize(
    ("closure", "flagged"),
    [(None, False), ("today", False), ("5 months ago", False), ("7 months ago", True)],
)
def test_a_row_none_of_whose_dates_falls_in_the_window_is_warned(
    mh: Theme, cin: ListSpec, closure: str | None, flagged: bool
) -> None:
    """Mental health lists look back six months: a case closed seven months ago is named
    with its row and the window; an open case (no closure date) is not."""
    today = TODAY  # the day the helpers' lists are received
    days = {"today": 0, "5 months ago": 152, "7 months ago": 214}
    fields = {}
    if closure is not None:
        fields = {
            "cin_closure_date": (today - timedelta(days=days[closure])).strftime("%d/%m/%Y"),
            "closure_reason": "RC7",
        }
    rows = [cin_row(cin_start_date="01/01/2019", **fields)]
    result = run(to_csv(*grid(cin, rows)), CSV, cin, mh, today=TODAY)
    found = [p for p in result.problems if p.code == "within_period"]
    assert bool(found) is flagged
    if flagged:
        (problem,) = found
        assert (problem.row, problem.severity) == (2, "warning")
        assert "window of 6 months" in problem.message
        assert "'CIN Closure Date'" in problem.message


def test_months_before_keeps_the_day_or_takes_the_months_last() -> None:
    from app.child_lists.parsing.dates import months_before

    assert months_before(date(2027, 8, 31), 6) == date(2027, 2, 28)
    assert months_before(date(2027, 3, 15), 3) == date(2026, 12, 15)
