"""A real webhook receiver on a loopback port, for delivery tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int
    at: float  # when it arrived (time.time())


@dataclass
class Receiver:
    """Answers ``status`` (after ``delay`` seconds) and keeps every request it was sent."""

    status: int = 204
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    at_once: int = 0  # requests being answered now
    most_at_once: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def accepted(self) -> list[Received]:
        with self.lock:
            return [each for each in self.requests if 200 <= each.answered < 300]

    def accepted_ids(self) -> list[str]:
        return [each.headers["webhook-id"] for each in self.accepted()]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            arrived = time.time()
            with receiver.lock:
                receiver.at_once += 1
                receiver.most_at_once = max(receiver.most_at_once, receiver.at_once)
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.status
            with receiver.lock:
                headers = {key.lower(): value for key, value in self.headers.items()}
                receiver.requests.append(Received(headers, body, status, arrived))
                receiver.at_once -= 1
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def receiving(**options: object) -> Iterator[Receiver]:
    receiver = Receiver(**options)  # type: ignore[arg-type]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until ``check`` holds; fail the test if it never does."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.02)
