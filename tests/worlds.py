"""When the test world is set, and what the workflow adds to it: tracked children, more agencies.

The ``world`` and ``ex`` fixtures (tests/conftest.py) build these; the types and times
are here so that test modules can name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.factories import Actor, Factory, World

LONDON = ZoneInfo("Europe/London")
TRACKED = ["C1", "C2", "C3", "C4", "C5"]
# Fieldwork far ahead: nothing is due yet. Long past: everything is.
FUTURE = datetime(2030, 3, 4, 9, 0, tzinfo=LONDON)
PAST = datetime(2020, 1, 6, 9, 0, tzinfo=LONDON)


@dataclass(frozen=True)
class Exchange:
    world: World
    health: Actor
    police: Actor

    @classmethod
    def around(cls, factory: Factory, world: World) -> Exchange:
        """The world's inspection with TRACKED tracked, and a health and a police agency."""
        factory.selection(world.inspection_id, "tracked", TRACKED)
        return cls(world, factory.actor_in(world, "health"), factory.actor_in(world, "police"))

    @property
    def base(self) -> str:
        return f"/v1/inspections/{self.world.inspection_id}"

    def child(self, child_id: str = "C1") -> str:
        return f"{self.base}/children/{child_id}"


def milestone(client: TestClient, ex: Exchange, key: str) -> dict[str, Any]:
    schedule = client.get(f"{ex.base}/schedule", headers=ex.world.lead.headers).json()
    found: dict[str, Any] = next(m for m in schedule["milestones"] if m["key"] == key)
    return found
