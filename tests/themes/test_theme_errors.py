"""A broken theme file fails to load with one line naming the file, where in it, and what."""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.themes.registry import ThemeFileError, load_theme_file, load_themes

FIXTURE = Path(__file__).parent / "fixtures" / "neglect.yaml"

Edit = Callable[[dict[str, Any]], None]


def fixture_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "neglect.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ThemeFileError) as raised:
        load_theme_file(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


def set_in(path: tuple[str | int, ...], value: object) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return edit


def test_the_fixture_itself_is_valid() -> None:
    assert load_theme_file(FIXTURE).key == "neglect"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            set_in(("lists", 0, "fields", 2, "type"), "datetime"),
            r": lists\[0\]\.fields\[2\]\.type: Input should be .*\(got 'datetime'\)",
            id="unknown-field-type",
        ),
        pytest.param(
            set_in(("lists", 1, "rules", 1, "later"), "cpp_closed_date"),
            r": lists\[1\]\.rules\[1\]: field 'cpp_closed_date' is not on this list",
            id="rule-names-a-missing-field",
        ),
        pytest.param(
            set_in(("lists", 1, "key"), "children-in-need"),
            r": lists: 'children-in-need' is used twice \(and \d+ more problem\(s\)\)",
            id="duplicate-list-key",
        ),
        pytest.param(
            set_in(("lists", 0, "fields", 1, "key"), "child_id"),
            r": lists\[0\]\.fields: field key 'child_id' is used twice",
            id="duplicate-field-key",
        ),
        pytest.param(
            set_in(("lists", 0, "fields", 1, "codelist"), "NOPE"),
            r": lists\[0\]\.fields\[1\]\.codelist: no code list 'NOPE'",
            id="missing-code-list",
        ),
        pytest.param(
            set_in(("lists", 0, "rules", 0, "fields"), 5),
            r": lists\[0\]\.rules\[0\]\.fields: Input should be a valid tuple",
            id="rule-kind-left-out-of-the-path",
        ),
        pytest.param(
            set_in(("lists", 1, "rules", 2, "when", 0, "equals"), "NEGLECT"),
            r": lists\[1\]\.rules\[2\]: 'NEGLECT' is not a code of 'cpp_latest_category'",
            id="condition-value-not-a-code",
        ),
        pytest.param(
            set_in(("milestones", 1, "working_days"), 0),
            r": milestones\[1\]: due before the milestone listed above it \('lists'\)",
            id="milestones-out-of-order",
        ),
        pytest.param(
            set_in(("milestones", 0, "at"), "9am"),
            r": milestones\[0\]\.at: String should match pattern",
            id="bad-time",
        ),
        pytest.param(
            set_in(("selections", "tracked", "milestone"), "fieldwork"),
            r": selections\.tracked\.milestone: no milestone 'fieldwork'",
            id="selection-names-a-missing-milestone",
        ),
        pytest.param(
            set_in(("selections", "tracked", "eligibility", "any_of", 0, "field"), "neglect"),
            r": selections\.tracked\.eligibility: field 'neglect' is not on list",
            id="selection-condition-names-a-missing-field",
        ),
        pytest.param(
            set_in(("tracking", "questions", 0, "esn"), [99]),
            r": tracking\.questions\[0\]: unknown ESN 99",
            id="unknown-esn",
        ),
        pytest.param(
            set_in(("information_sections", 0, "items", 0, "number"), "2.1"),
            r": information_sections\[0\]\.items\[0\]: item 2\.1 is not numbered in section 1",
            id="item-in-the-wrong-section",
        ),
        pytest.param(
            set_in(("selections", "tracked", "eligibility"), {"from_selection": "x", "min_age": 0}),
            r": selections\.tracked\.eligibility: conditions and ages apply to from_lists only",
            id="ages-on-a-selection-drawn-from-a-selection",
        ),
        pytest.param(
            set_in(("lists", 0, "fields", 0, "minimum"), 1),
            r": lists\[0\]\.fields\[0\]\.minimum: only integer fields take minimum",
            id="option-for-another-type",
        ),
        pytest.param(
            set_in(("lists", 0, "fields", 3, "aliases"), ["child unique id"]),
            r": lists\[0\]\.fields\[3\]: heading 'child unique id' also names 'child_id'",
            id="heading-names-two-fields",
        ),
        pytest.param(
            set_in(("colour",), "blue"),
            r": colour: Extra inputs are not permitted",
            id="unknown-key",
        ),
        pytest.param(
            set_in(("lists", 0, "rules"), []),
            r": lists\[0\]\.rules: a one-row-per-child list needs a unique rule on child_id",
            id="one-row-per-child-without-unique-rule",
        ),
    ],
)
def test_broken_theme(tmp_path: Path, edit: Edit, expected: str) -> None:
    data = fixture_data()
    edit(data)
    message = load_error(write(tmp_path, data))
    assert re.search(expected, message), message


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = tmp_path / "neglect.yaml"
    text = FIXTURE.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            'title: "Children living with neglect"\n',
            'title: "Children living with neglect"\ntitle: again\n',
        )
    )
    message = load_error(path)
    assert re.search(r": line 7, column 1: not valid YAML: duplicate key 'title'", message)


def test_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "neglect.yaml"
    path.write_text("key: neglect\nlists: [unclosed\n", encoding="utf-8")
    assert re.search(r": line \d+, column \d+: not valid YAML: ", load_error(path))


def test_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "neglect.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    assert load_error(path).endswith("expected a mapping of theme settings at the top")


def test_key_must_match_the_file_name(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, fixture_data(), name="other.yaml"))
    assert message.endswith(": key: 'neglect' must match the file name 'other'")


def test_yaml_1_1_surprises_are_plain_strings(tmp_path: Path) -> None:
    # Unquoted, YAML 1.1 reads 12:00 as 720 and No as false; theme files mean the text.
    text = FIXTURE.read_text(encoding="utf-8").replace('at: "12:00"', "at: 12:00")
    text = text.replace("label: Neither", "label: No")
    path = tmp_path / "neglect.yaml"
    path.write_text(text, encoding="utf-8")
    theme = load_theme_file(path)
    assert theme.milestones[0].at == "12:00"
    assert theme.codelists["GENDER"][3].label == "No"


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ThemeFileError, match="not a directory"):
        load_themes([tmp_path / "absent"])


def test_a_broken_file_stops_the_whole_load(tmp_path: Path) -> None:
    data = fixture_data()
    data["lists"][0]["fields"][0]["type"] = "uuid"
    write(tmp_path, data)
    with pytest.raises(ThemeFileError, match=r"neglect\.yaml: lists\[0\]\.fields\[0\]\.type"):
        load_themes([tmp_path])
