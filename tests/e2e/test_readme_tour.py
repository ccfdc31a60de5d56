"""The README's tour, copied literally: its shell blocks run, in order and in one bash, against
`jtai serve --demo` on a free port, as a newcomer would paste them after `./scripts/run.sh`.

The server runs in a scratch folder (its `var/` there, SQLite), and so does the tour, which
reads `var/demo.json` as it would in the repository. Each block must exit 0 (the shell runs
with ``-e -o pipefail``, so a failing step stops it and the last block reached is named), and
each step's expected answer must appear in the output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live_server import free_port, wait_until_up

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
TOUR_START = "<!-- tour:"
TOUR_END = "<!-- tour end -->"
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
MARK = "@@ tour block {} exited 0"
# Waits only stop a broken server from hanging the run; nothing asserts on speed.
PATIENCE_SECONDS = 90


def tour_blocks(readme: str) -> list[str]:
    """The sh blocks between the tour's two markers, in order."""
    start = readme.index(TOUR_START)
    end = readme.index(TOUR_END, start)
    return SH_BLOCK.findall(readme[start:end])


@dataclass(frozen=True)
class Served:
    folder: Path
    port: int
    log: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`jtai serve --demo --port N` as run.sh runs it, from a scratch folder."""
    folder = tmp_path_factory.mktemp("tour")
    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("JTAI_")  # the suite's own settings are not the newcomer's
    }
    environment |= {"JTAI_SWEEP_INTERVAL_SECONDS": "0", "JTAI_PARSE_WORKERS": "1"}
    command = [sys.executable, "-m", "app.cli", "serve", "--demo", "--port", str(port)]
    log = folder / "serve.log"  # a file, not a pipe nobody reads that would fill and block it
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=folder, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_until_up(process, f"http://127.0.0.1:{port}", log, PATIENCE_SECONDS)
        yield Served(folder, port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_tour_has_its_blocks() -> None:
    blocks = tour_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    assert all("<" not in line.split("#")[0] for b in blocks for line in b.splitlines()), (
        "a placeholder like <the lead client id> is left for the reader to fill in"
    )


def test_the_server_says_where_it_listens_and_starts_without_warnings(served: Served) -> None:
    log = served.log.read_text()
    assert f"listening on http://127.0.0.1:{served.port}" in log
    assert "Warning" not in log, log
    assert f'"base_url": "http://127.0.0.1:{served.port}"' in log


def test_the_readme_tour_runs_top_to_bottom(served: Served) -> None:
    blocks = tour_blocks(README.read_text(encoding="utf-8"))
    script = "\n".join(
        f"{block}\necho '{MARK.format(number)}'" for number, block in enumerate(blocks)
    )
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=served.folder,
        capture_output=True,
        text=True,
        timeout=PATIENCE_SECONDS,
        env={"PATH": os.environ["PATH"], "HOME": str(served.folder)},
        check=False,
    )
    output = done.stdout + done.stderr
    reached = [n for n in range(len(blocks)) if MARK.format(n) in done.stdout]
    assert done.returncode == 0, f"block {len(reached)} failed:\n{output}"
    assert reached == list(range(len(blocks)))
    # What each step answers.
    assert '"roles":["operator"]' in done.stdout  # 1. the token is the operator's
    assert '"code":"organisation_exists"' in done.stderr  # 2. Ofsted is there already
    assert '"valid":true' in done.stdout  # 4. the audit chain holds
    assert "'tracked_children'" in done.stdout  # 5. the progress page
    assert '"child_id":"DEMO001"' in done.stdout  # 5. found across the lists
    assert "DEMO001_chronology.pdf" in done.stdout  # 5. its documents, zipped


def test_readme_links_stay_inside_the_repository() -> None:
    """A clone has no ../shared: every relative link names a file or folder of the repo."""
    readme = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    assert targets
    for target in targets:
        if re.match(r"^[a-z]+://", target) or target.startswith("#"):
            continue
        resolved = (ROOT / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), target
        assert resolved.exists(), target
