from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.client.helpers import Cli


@pytest.fixture
def cli(client: TestClient, tmp_path: Path) -> Cli:
    return Cli(client, tmp_path / "cache" / "token.json")
