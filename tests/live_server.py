"""A real `jtai serve` for tests that need one over a socket: a free port, and waiting for it."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx


def free_port() -> int:
    """A loopback port nothing listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(
    process: subprocess.Popen[bytes], url: str, log: Path, patience_seconds: float = 120
) -> None:
    """Until ``url``/healthz answers 200; fails with the server's log if it exits or never
    comes up (a slow machine gets ``patience_seconds``; only a broken server waits them out)."""
    deadline = time.monotonic() + patience_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jtai serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"jtai serve did not come up: {log.read_text()}")
