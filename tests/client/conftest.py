from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.client.helpers import Cli
from tests.factories import Factory, World


@pytest.fixture
def world(factory: Factory) -> World:
    return factory.world(
        "mental-health", datetime(2030, 3, 4, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    )


@pytest.fixture
def cli(client: TestClient, tmp_path: Path) -> Cli:
    return Cli(client, tmp_path / "cache" / "token.json")
