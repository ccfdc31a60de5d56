"""The built-in themes say what their source documents say.

Each seed document (the published JTAI guidance, kept beside the repository in ../shared/seeds)
is matched to the theme whose source reference number it carries, then its numbered "other
information" items, list scopes and columns, evaluation criteria and Annex B questions are
checked against the theme file.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.themes.registry import builtin_themes
from app.themes.schema.base import match_key
from app.themes.schema.theme import Theme

# TEST_SEEDS_DIR points elsewhere (tests of the banner shown when they are missing).
SEEDS = Path(
    os.environ.get("TEST_SEEDS_DIR") or Path(__file__).parents[2].parent / "shared" / "seeds"
)
SEED_FILES = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []

ITEM_LINE = re.compile(r"^\s*(?:-\s*)?(?:\*\*)?(\d+\.\d+)(?:\*\*)?\s*(?:\u2013\s*)?(\S.*?)\s*$")
ESN_CRITERION = re.compile(r"(.{40})\s*\(esn (\d+)\)")
LIST_SCOPE = re.compile(
    r"\ball (?:those|contacts|referrals|statutory|section 47|children in care)\b.*?"
    r"(?=\.|\t|<|\s{2}|$)",
    re.IGNORECASE,
)
LIST_NUMBERS = re.compile(
    r"\blists? ((?:one|two|three|four|five|six|seven|eight)\b(?:(?:,| and) \w+)*)"
)
NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight"]
BULLET_YN = re.compile(r"^\s*-\s+(.*\(Y/N\))\s*$")
ANNEX_B_QUESTION = re.compile(r"^(.*?\?)\s*(?:ESN ([\d, ]+))?\s*(?:<sup>\d+</sup>)?\s*\t\s*$")


def normalise(text: str) -> str:
    """Seed text without markdown, HTML footnote marks or superscript footnote digits."""
    text = re.sub(r"<sup>.*?</sup>", "", text)
    text = re.sub(r"[\u00b9\u00b2\u00b3\u2070-\u2079]+", "", text)
    return match_key(text.replace("**", ""))


def theme_for(seed: Path) -> Theme:
    text = seed.read_text(encoding="utf-8")
    matches = [
        t
        for t in builtin_themes().all()
        if f"Reference no: {t.source.reference}" in text.replace("**", "")
    ]
    assert len(matches) == 1, f"{seed.name} matches no single theme"
    return matches[0]


pytestmark = pytest.mark.skipif(not SEED_FILES, reason=f"no seed documents in {SEEDS}")


@pytest.fixture(params=SEED_FILES, ids=[p.name for p in SEED_FILES])
def seed(request: pytest.FixtureRequest) -> tuple[str, Theme]:
    path: Path = request.param
    return path.read_text(encoding="utf-8"), theme_for(path)


def test_every_seed_has_a_theme() -> None:
    assert {theme_for(p).key for p in SEED_FILES} == {"mental-health", "domestic-abuse"}


def test_other_information_items_are_verbatim(seed: tuple[str, Theme]) -> None:
    text, theme = seed
    in_seed = {
        m.group(1): normalise(m.group(2))
        for line in text.splitlines()
        if (m := ITEM_LINE.match(line))
    }
    in_theme = {
        item.number: normalise(item.text)
        for section in theme.information_sections
        for item in section.items
    }
    assert in_theme == in_seed


def test_every_named_annex_a_list_is_in_the_theme(seed: tuple[str, Theme]) -> None:
    text, theme = seed
    named = {
        NUMBER_WORDS.index(word) + 1
        for phrase in LIST_NUMBERS.findall(normalise(text))
        for word in re.findall(r"\w+", phrase)
        if word in NUMBER_WORDS
    }
    assert named, "the seed names no Annex A list"
    assert named <= {spec.annex_a_number for spec in theme.lists}


def test_every_list_scope_in_the_seed_describes_a_list(seed: tuple[str, Theme]) -> None:
    text, theme = seed
    scopes = [normalise(m.group(0)) for m in LIST_SCOPE.finditer(text)]
    assert scopes
    descriptions = [normalise(spec.description) for spec in theme.lists]
    for scope in scopes:
        assert any(scope in d for d in descriptions), scope


def test_every_column_the_seed_lists_is_accepted(seed: tuple[str, Theme]) -> None:
    text, theme = seed
    for scope, columns in seed_tables(text):
        spec = next(s for s in theme.lists if scope in normalise(s.description))
        accepted = {k for f in spec.fields for k in f.match_keys()}
        missing = [c for c in columns if normalise(c) not in accepted]
        assert not missing, f"{spec.key}: {missing}"


def test_every_yes_no_question_in_the_seed_is_a_field(seed: tuple[str, Theme]) -> None:
    text, theme = seed
    questions = [
        normalise(m.group(1)) for line in text.splitlines() if (m := BULLET_YN.match(line))
    ]
    assert questions
    accepted = {k for spec in theme.lists for f in spec.fields for k in f.match_keys()}
    assert [q for q in questions if q not in accepted] == []


def test_every_esn_criterion_is_in_the_theme_with_its_wording(seed: tuple[str, Theme]) -> None:
    text, theme = seed
    in_seed = {int(n): tail.strip() for tail, n in ESN_CRITERION.findall(normalise(text))}
    in_theme = {c.number: normalise(c.text) for c in theme.esn_criteria}
    assert sorted(in_seed) == sorted(in_theme)
    for number, tail in in_seed.items():
        assert in_theme[number].endswith(tail), number


def test_annex_b_questions_and_esn_tags(seed: tuple[str, Theme]) -> None:
    text, theme = seed
    annex_b = text[text.rindex("Inspector's evaluation") :]
    in_seed = {
        normalise(m.group(1)): tuple(int(n) for n in re.findall(r"\d+", m.group(2) or ""))
        for line in annex_b.splitlines()
        if (m := ANNEX_B_QUESTION.match(line))
    }
    in_theme = {normalise(q.text): q.esn for q in theme.tracking.questions}
    assert in_theme == in_seed


def test_annex_b_header_fields_are_in_the_seed(seed: tuple[str, Theme]) -> None:
    text, theme = seed
    annex_b = normalise(text[text.rindex("Annex B") :])
    for field in theme.tracking.header_fields:
        # One seed leaves the last bracket of a label open.
        assert normalise(field.label).rstrip(")") in annex_b, field.key


def test_documents_and_meetings_are_worded_as_in_the_seed(seed: tuple[str, Theme]) -> None:
    text, theme = seed
    body = normalise(text)
    for document in theme.case_file_documents:
        for wording in (document.title, *document.sub_items):
            assert normalise(wording).rstrip(".") in body, document.key
    for meeting in theme.meeting_kinds:
        assert normalise(meeting.title) in body, meeting.key


def seed_tables(text: str) -> list[tuple[str, list[str]]]:
    """(list scope, column names) for each list table the seed spells out."""
    lines = text.splitlines()
    tables = []
    for index, line in enumerate(lines):
        scope = LIST_SCOPE.search(line)
        if scope is None:
            continue
        if "<li>" in line:
            columns = re.findall(r"<li>(.*?)</li>", line)
        else:
            columns = markdown_bullets(lines[index + 1 :])
        if columns:
            tables.append((normalise(scope.group(0)), columns))
    return tables


def markdown_bullets(lines: list[str]) -> list[str]:
    """Column bullets right under a table's scope line ("Detail required" may come between),
    up to the next numbered paragraph ("- 15. ...")."""
    bullets: list[str] = []
    for line in lines:
        if line.startswith("- ") and not re.match(r"- \d+\.", line):
            bullets.append(line[2:])
        elif bullets or (line.strip() and "Detail required" not in line):
            break
    return bullets


def test_missing_seeds_are_announced_not_skipped_silently(tmp_path: Path) -> None:
    """Without ../shared/seeds every test above skips: the run's summary says so in a banner."""
    environment = os.environ | {"TEST_SEEDS_DIR": str(tmp_path / "absent")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=Path(__file__).parents[2],
        check=False,
        timeout=120,
    )
    assert "theme-vs-guidance tests SKIPPED: no seed documents" in done.stdout, done.stdout
