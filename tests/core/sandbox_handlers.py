"""Handlers for the sandbox tests, run inside worker processes (``module:make``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

Frame = tuple[dict[str, Any], bytes]
Handler = Callable[[dict[str, Any], bytes], Frame | Iterator[Frame]]


def make(args: list[str]) -> Handler:
    def handle(header: dict[str, Any], payload: bytes) -> Frame | Iterator[Frame]:
        action = header["do"]
        if action == "stream":
            return _stream(header["frames"], payload)
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


def _stream(frames: int, payload: bytes) -> Iterator[Frame]:
    """A first frame announcing ``frames`` more, each the payload and its number."""
    yield {"pid": os.getpid(), "frames": frames}, b""
    for number in range(frames):
        yield {"number": number}, payload
