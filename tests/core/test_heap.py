"""The service's start-up heap is kept out of the cyclic collector's passes."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient


def test_a_started_service_has_frozen_what_start_up_made(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert gc.get_freeze_count() > 0
