"""Grow the world for bench_scale.py: other inspections, each with lists of many rows, made
through the service functions the API uses (tests/factories.py), on the bench's database.

The rows are synthetic and carry no real child data; each inspection has its own local
authority, so a read of the demo inspection finds the others' rows only by what it indexes.
"""

from __future__ import annotations

import time
from pathlib import Path

from app.auth.keys import generate_private_pem
from app.core.config import Environment, Settings
from app.main import create_app
from app.organisations.kinds import OrganisationKind
from tests.factories import Factory


def _rows(inspection: int, count: int) -> list[dict[str, str]]:
    return [
        {"child_id": f"S{inspection:03d}{index:06d}", "gender": "1", "ethnicity": "WBRI"}
        for index in range(count)
    ]


def grow_inspections(
    database_url: str, scratch: Path, inspections: int, lists: int, rows: int
) -> float:
    """Make ``inspections`` inspections with ``lists`` lists of ``rows`` rows; seconds taken."""
    settings = Settings(
        environment=Environment.TEST,
        var_dir=scratch / "scale-world",
        database_url=database_url,
        signing_key=generate_private_pem(),
        audit_sequence_seconds=0,
        log_level="WARNING",
    )
    app = create_app(settings)
    factory = Factory(app)
    theme = app.state.jtai.themes.get("mental-health")
    keys = [spec.key for spec in theme.lists]
    started = time.perf_counter()
    for number in range(inspections):
        authority = factory.organisation(OrganisationKind.LOCAL_AUTHORITY)
        inspection_id = factory.inspection(authority)
        for index in range(lists):  # past the theme's lists: a list's next version
            factory.stored_list(inspection_id, keys[index % len(keys)], _rows(number, rows))
    return time.perf_counter() - started
