"""Handlers for the sandbox tests, run inside worker processes (``module:make``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any], bytes], tuple[dict[str, Any], bytes]]


def make(args: list[str]) -> Handler:
    def handle(header: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes]:
        action = header["do"]
        if action == "abort":
            os.abort()  # what a native parser's failed allocation does
        if action == "spin":
            while True:
                pass
        if action == "sleep":
            time.sleep(header["seconds"])
        if action == "allocate":
            bytearray(header["bytes"])
        if action == "fail":
            raise ValueError("a bug")
        return {"pid": os.getpid(), "args": args}, payload[::-1]

    return handle
