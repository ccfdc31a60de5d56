"""The README's access table, rendered from the access matrix the tests run.

The table is the matrix's expectations, so it cannot say what the service does not do.
Rewrite it with ``.venv/bin/python -m tests.auth.access_table``; a test fails when it is stale.
"""

from __future__ import annotations

import re
from pathlib import Path

from app.auth.policy import POLICY
from tests.auth.test_access_matrix import ACTORS, MATRIX

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- access-table:start -->", "<!-- access-table:end -->"
HEADINGS = {
    "operator": "operator",
    "org_admin": "org admin",
    "lead": "lead",
    "inspector": "inspector on the team",
    "off_team_inspector": "same inspectorate, off the team",
    "person": "person (trusted issuer), on the team",
    "outside_inspector": "inspectorate not taking part",
    "agency": "agency taking part",
    "other_area_agency": "another area's agency",
}


def _cell(status: int) -> str:
    # 409 and 422 mean the caller got past the policy to the rules of the operation itself.
    if status < 300 or status in (409, 412, 422):
        return "yes"
    return str(status)


def render() -> str:
    actors = [actor for actor in HEADINGS if actor in ACTORS]
    lines = [
        "| operation | " + " | ".join(HEADINGS[actor] for actor in actors) + " |",
        "| --- |" + " :-: |" * len(actors),
    ]
    for operation in POLICY:
        expected = MATRIX[operation][1]
        cells = " | ".join(_cell(expected[actor]) for actor in actors)
        lines.append(f"| `{operation}` | {cells} |")
    return "\n".join(lines)


def readme_table() -> str:
    found = re.search(re.escape(START) + r"\n(.*?)\n" + re.escape(END), README.read_text(), re.S)
    return found.group(1) if found else ""


def write() -> None:
    text = README.read_text()
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    README.write_text(f"{before}{START}\n{render()}\n{END}{after}")


if __name__ == "__main__":
    write()
