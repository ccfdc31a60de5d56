"""``jtai client events``: the caller's events as JSON lines, resumable from a cursor.

A line is printed before the cursor past it is saved, so a consumer killed in between sees
that event again on the next run (at least once, never lost); ``id`` tells repeats apart.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jtai_client.api import ExchangeClient

PAGE_SIZE = 500
FOLLOW_WAIT_SECONDS = 30  # the server's longest wait: one request per half minute when quiet


@dataclass(frozen=True)
class Feed:
    """Where to read from and how long to go on."""

    after: str
    follow: bool
    # Hidden, for tests: stop following after this many requests (None: for ever).
    max_requests: int | None = None
    wait: int = FOLLOW_WAIT_SECONDS


def load_cursor(path: Path | None) -> str:
    if path is None or not path.exists():
        return ""
    return path.read_text(encoding="utf-8").strip()


def save_cursor(path: Path | None, cursor: str) -> None:
    """Replace the file whole, so a crash leaves the old cursor or the new, never half."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(cursor + "\n", encoding="utf-8")
    os.replace(partial, path)


def read_events(
    api: ExchangeClient,
    feed: Feed,
    emit: Callable[[dict[str, Any]], None],
    saved: Callable[[str], None],
) -> str:
    """Emit each event in order and report each cursor reached; the last cursor. Without
    ``follow``, stops at the first page that is not full (caught up)."""
    cursor, requests = feed.after, 0
    while True:
        params = {"limit": str(PAGE_SIZE), "wait": str(feed.wait if feed.follow else 0)}
        if cursor:
            params["after"] = cursor
        page = api.get_json("/v1/events", params=params)
        requests += 1
        for item in page["items"]:
            emit(item)
        if page["next_cursor"] != cursor:
            cursor = page["next_cursor"]
            saved(cursor)
        caught_up = len(page["items"]) < PAGE_SIZE
        if (caught_up and not feed.follow) or requests == feed.max_requests:
            return cursor


def json_line(item: dict[str, Any]) -> str:
    return json.dumps(item, separators=(",", ":"), sort_keys=True)
