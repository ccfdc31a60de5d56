from __future__ import annotations

import pytest

from app.themes.registry import builtin_themes
from app.themes.schema.lists import ListSpec
from app.themes.schema.theme import Theme


@pytest.fixture(scope="session")
def mh() -> Theme:
    return builtin_themes().get("mental-health")


@pytest.fixture(scope="session")
def da() -> Theme:
    return builtin_themes().get("domestic-abuse")


@pytest.fixture(scope="session")
def cin(mh: Theme) -> ListSpec:
    spec = mh.get_list("children-in-need")
    assert spec is not None
    return spec
