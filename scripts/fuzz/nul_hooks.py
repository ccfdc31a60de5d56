"""schemathesis hooks: half of the generated cases get a NUL (U+0000) in every string of their
path, query and JSON body, so that a pass reaches the database with them (schemathesis alone
rarely puts one where it matters). The inspection id stays as configured."""

from __future__ import annotations

import random
from typing import Any

import schemathesis  # type: ignore[import-not-found]

UNTOUCHED = {"inspection_id"}


def _with_nul(value: Any, rng: random.Random) -> Any:
    if isinstance(value, str):
        cut = rng.randint(0, len(value))
        return value[:cut] + "\x00" + value[cut:]
    if isinstance(value, dict):
        return {key: _with_nul(item, rng) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_nul(item, rng) for item in value]
    return value


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    rng = random.Random()
    if rng.random() < 0.5:
        return case
    if case.path_parameters:
        case.path_parameters = {
            name: value if name in UNTOUCHED else _with_nul(value, rng)
            for name, value in case.path_parameters.items()
        }
    if case.query:
        case.query = _with_nul(case.query, rng)
    if (case.media_type or "").endswith("json"):
        case.body = _with_nul(case.body, rng)
    return case
