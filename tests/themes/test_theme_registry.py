"""The built-in themes load, keep the names clients rely on, and a third theme is only a file."""

from datetime import time
from pathlib import Path

import pytest

from app.themes.registry import (
    BUILTIN_THEMES_DIR,
    ThemeFileError,
    ThemeRegistry,
    UnknownThemeError,
    builtin_themes,
    load_theme_file,
    load_themes,
)
from app.themes.schema.base import match_key
from app.themes.schema.lists import Code, FieldSpec, ListSpec
from app.themes.schema.schedule import Milestone
from app.themes.schema.theme import Theme

FIXTURES = Path(__file__).parent / "fixtures"

MH_EXTRAS = [
    "mh_concern",
    "mh_support_need",
    "camhs_referred",
    "camhs_receiving",
    "camhs_waiting_list",
    "camhs_referral_not_accepted",
    "mh_intervention_6m",
    "multi_agency_involvement",
    "known_to_yot",
    "police_investigation",
]


def get_list(theme: Theme, key: str) -> ListSpec:
    spec = theme.get_list(key)
    assert spec is not None, key
    return spec


def get_field(theme: Theme, list_key: str, key: str) -> FieldSpec:
    spec = get_list(theme, list_key).field(key)
    assert spec is not None, key
    return spec


def get_milestone(theme: Theme, key: str) -> Milestone:
    milestone = theme.get_milestone(key)
    assert milestone is not None, key
    return milestone


@pytest.fixture(scope="module")
def mental_health() -> Theme:
    return builtin_themes().get("mental-health")


@pytest.fixture(scope="module")
def domestic_abuse() -> Theme:
    return builtin_themes().get("domestic-abuse")


def test_builtin_themes_load() -> None:
    registry = builtin_themes()
    assert registry.keys() == ["domestic-abuse", "mental-health"]
    assert [theme.key for theme in registry.all()] == registry.keys()


def test_builtin_themes_are_loaded_once() -> None:
    assert builtin_themes() is builtin_themes()


@pytest.mark.parametrize(
    ("key", "milestones"),
    [
        (
            "mental-health",
            [
                "lists-cin-cp-cla",
                "meetings-and-lists",
                "selection",
                "documents",
                "evaluations",
                "cqc-request",
                "engagement",
                "fieldwork",
            ],
        ),
        (
            "domestic-abuse",
            [
                "lists-cin-cp",
                "shortlist",
                "case-lists",
                "shortlist-information",
                "meetings-and-lists",
                "selection",
                "documents",
                "evaluations",
                "cqc-request",
                "consent",
            ],
        ),
    ],
)
def test_milestone_keys_are_the_stable_names(key: str, milestones: list[str]) -> None:
    assert [m.key for m in builtin_themes().get(key).milestones] == milestones


def test_list_keys_and_annex_a_numbers(mental_health: Theme, domestic_abuse: Theme) -> None:
    assert {s.key: s.annex_a_number for s in mental_health.lists} == {
        "contacts": 1,
        "referrals": 3,
        "assessments": 4,
        "section-47": 5,
        "children-in-need": 6,
        "child-protection": 7,
        "looked-after": 8,
    }
    assert {s.key: s.annex_a_number for s in domestic_abuse.lists} == {
        "children-in-need": 6,
        "child-protection": 7,
        "da-multi-agency": None,
        "da-positive-engagement": None,
        "da-yot-probation": None,
        "shortlist-information": None,
        "contacts": 1,
        "early-help": 2,
        "referrals": 3,
        "assessments": 4,
        "section-47": 5,
    }
    assert get_list(domestic_abuse, "early-help").workbook_sheet == "List_2"
    assert get_list(domestic_abuse, "da-multi-agency").workbook_sheet is None


def test_list_periods_follow_each_theme(mental_health: Theme, domestic_abuse: Theme) -> None:
    assert {s.period_months for s in mental_health.lists} == {6}
    da_periods = {s.key: s.period_months for s in domestic_abuse.lists if s.annex_a_number}
    assert da_periods == {
        "children-in-need": 3,
        "child-protection": 3,
        "contacts": 3,
        "early-help": 6,
        "referrals": 3,
        "assessments": 6,
        "section-47": 6,
    }


@pytest.mark.parametrize("list_key", ["children-in-need", "child-protection", "looked-after"])
def test_mental_health_extras_on_cin_cp_cla(mental_health: Theme, list_key: str) -> None:
    spec = get_list(mental_health, list_key)
    extras = [f for f in spec.fields if f.theme_extra]
    assert [f.key for f in extras] == MH_EXTRAS
    assert {f.type for f in extras} == {"yes_no"}
    kinds = {rule.kind for rule in spec.rules}
    assert {"only_for_ages", "required_when", "unique"} <= kinds


def test_mental_health_assessment_extra(mental_health: Theme) -> None:
    extra = get_field(mental_health, "assessments", "mh_identified")
    assert extra.theme_extra
    assert match_key(
        "if assessment has been completed, has mental ill health been identified?"
    ) in (extra.match_keys())


@pytest.mark.parametrize("list_key", ["children-in-need", "child-protection"])
def test_domestic_abuse_field_is_required(domestic_abuse: Theme, list_key: str) -> None:
    field = get_field(domestic_abuse, list_key, "living_with_da")
    assert field.required
    assert field.theme_extra


def test_workbook_columns_the_da_guidance_omits_are_optional(domestic_abuse: Theme) -> None:
    assert get_field(domestic_abuse, "children-in-need", "case_status").required is False
    assert get_field(domestic_abuse, "early-help", "eh_start_date").required is False


def test_selections(mental_health: Theme, domestic_abuse: Theme) -> None:
    tracked = mental_health.selections["tracked"]
    assert (tracked.minimum, tracked.maximum) == (5, 7)
    assert (tracked.eligibility.min_age, tracked.eligibility.max_age) == (10, 15)
    assert tracked.eligibility.from_lists == (
        "children-in-need",
        "child-protection",
        "looked-after",
    )
    shortlist = domestic_abuse.selections["shortlist"]
    assert (shortlist.minimum, shortlist.maximum) == (20, 20)
    assert [c.field for c in shortlist.eligibility.any_of] == ["living_with_da"]
    assert domestic_abuse.selections["tracked"].eligibility.from_selection == "shortlist"


def test_information_items_are_numbered(mental_health: Theme, domestic_abuse: Theme) -> None:
    def numbers(theme: Theme) -> list[str]:
        return [i.number for s in theme.information_sections for i in s.items]

    assert (numbers(mental_health)[0], numbers(mental_health)[-1]) == ("1.1", "6.6")
    assert (numbers(domestic_abuse)[0], numbers(domestic_abuse)[-1]) == ("1.1", "6.5")


def test_esn_ranges(mental_health: Theme, domestic_abuse: Theme) -> None:
    assert [c.number for c in mental_health.esn_criteria] == list(range(23, 42))
    assert [c.number for c in domestic_abuse.esn_criteria] == list(range(23, 39))
    assert 22 in domestic_abuse.framework_esn_range
    assert 23 not in domestic_abuse.framework_esn_range


def test_tracking_questions_carry_esn_tags_only_where_the_source_has_them(
    mental_health: Theme, domestic_abuse: Theme
) -> None:
    assert all(q.esn == () for q in mental_health.tracking.questions)
    assert all(q.esn for q in domestic_abuse.tracking.questions)
    for theme in (mental_health, domestic_abuse):
        assert theme.evaluation.questions == tuple(q.key for q in theme.tracking.questions)


def test_shared_code_lists_are_identical(mental_health: Theme, domestic_abuse: Theme) -> None:
    # Each theme file is self-contained, so the common code lists are copies: keep them equal.
    shared = mental_health.codelists.keys() & domestic_abuse.codelists.keys()
    assert shared == {"GENDER", "ETH", "SRC", "NEED", "RC", "CASE", "ABUSE"}
    for name in shared:
        assert mental_health.codelists[name] == domestic_abuse.codelists[name], name


def test_codes_match_every_spelling(mental_health: Theme) -> None:
    code = next(c for c in mental_health.codelists["ETH"] if c.code == "WBRI")
    assert {"wbri", "a) wbri", "white british"} <= code.match_keys()
    assert match_key("Number of Episodes the Child has been 'Missing'") == match_key(
        "number of episodes the child  has been \u2018Missing\u2019"
    )


def test_yes_no_codes_depend_on_allow_unknown(mental_health: Theme) -> None:
    disability = get_field(mental_health, "assessments", "disability")
    nfa = get_field(mental_health, "assessments", "mh_identified")
    assert [c.workbook for c in mental_health.codes_for(disability)] == [
        "a) Yes",
        "b) No",
        "c) Unknown",
    ]
    assert [c.code for c in mental_health.codes_for(nfa)] == ["Y", "N"]


def test_allowed_codes_narrow_a_code_list(domestic_abuse: Theme) -> None:
    status = get_field(domestic_abuse, "da-positive-engagement", "case_status")
    assert [c.code for c in domestic_abuse.codes_for(status)] == ["CLA", "CP", "CIN"]


def test_milestone_due_times(mental_health: Theme) -> None:
    lists = get_milestone(mental_health, "lists-cin-cp-cla")
    assert lists.working_days == 3
    assert lists.due_time() == time(9, 0)
    assert get_milestone(mental_health, "documents").due_time() == "end_of_day"


def test_a_third_theme_loads_from_an_extra_directory() -> None:
    registry = load_themes([BUILTIN_THEMES_DIR, FIXTURES])
    assert registry.keys() == ["domestic-abuse", "mental-health", "neglect"]
    neglect = registry.get("neglect")
    assert [s.key for s in neglect.lists] == ["children-in-need", "child-protection"]
    assert "neglect" in registry
    assert len(registry) == 3


@pytest.mark.parametrize("key", ["mental-health", "domestic-abuse"])
def test_theme_json_reads_back_unchanged(key: str) -> None:
    # Clients read themes from GET /v1/themes/{theme}; the same model must accept that JSON.
    theme = builtin_themes().get(key)
    assert Theme.model_validate_json(theme.model_dump_json()) == theme


def test_unknown_theme() -> None:
    with pytest.raises(UnknownThemeError, match="unknown theme 'nope'") as raised:
        builtin_themes().get("nope")
    assert isinstance(raised.value, KeyError)


def test_the_same_theme_twice_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "neglect.yaml").write_bytes((FIXTURES / "neglect.yaml").read_bytes())
    with pytest.raises(ThemeFileError, match=r"neglect\.yaml: key: theme 'neglect' is already"):
        load_themes([FIXTURES, tmp_path])


def test_registry_refuses_duplicate_keys() -> None:
    theme = load_theme_file(FIXTURES / "neglect.yaml")
    with pytest.raises(ValueError, match="defined twice"):
        ThemeRegistry([theme, theme])


def test_code_is_frozen() -> None:
    code = Code(code="Y", label="Yes", workbook="a) Yes")
    with pytest.raises(ValueError, match="frozen"):
        code.label = "No"  # type: ignore[misc]
