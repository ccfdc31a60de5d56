"""`jtai serve` bounds request heads: an endless header is refused at the limit (431), as it
arrives, while other clients go on being answered. Run against a real server process."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.live_server import free_port, wait_until_up

LIMIT = 64 * 1024  # JTAI_MAX_HEADER_BYTES' default, which the server below runs with
REQUEST_LINE = b"GET /healthz HTTP/1.1\r\nHost: jtai.test\r\nConnection: close\r\n"
HEADER_NAME = b"X-Padding: "
MEGABYTE = 1_000_000
# Short, so a test can outwait it; longer than any other test here keeps a head open.
HEADER_TIMEOUT_SECONDS = 5
# Waits below only stop a broken server from hanging the run; nothing asserts on speed.
PATIENCE_SECONDS = 60


@dataclass(frozen=True)
class Server:
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE_SECONDS)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`jtai serve --workers 2` on a free loopback port, SQLite in a temporary folder."""
    var = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {
        **os.environ,
        "JTAI_VAR_DIR": str(var),
        "JTAI_DATABASE_URL": f"sqlite:///{var / 'serve.sqlite3'}",
        "JTAI_SWEEP_INTERVAL_SECONDS": "0",
        "JTAI_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT_SECONDS),
    }
    env.pop("JTAI_MAX_HEADER_BYTES", None)
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"]
    log = var / "serve.log"  # a file, not a pipe nobody reads that would fill and block it
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until_up(process, f"http://127.0.0.1:{port}", log)
        yield Server(port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_answer(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes; a reset counts as a close."""
    received = bytearray()
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return bytes(received)


def _status(answer: bytes) -> int | None:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


def _head_of(total: int) -> bytes:
    """A whole request head of exactly ``total`` bytes."""
    padding = total - len(REQUEST_LINE) - len(HEADER_NAME) - len(b"\r\n\r\n")
    return REQUEST_LINE + HEADER_NAME + b"a" * padding + b"\r\n\r\n"


def test_a_head_of_exactly_the_limit_is_served(server: Server) -> None:
    with server.connect() as connection:
        connection.sendall(_head_of(LIMIT))
        answer = _read_answer(connection)
    assert _status(answer) == 200


def test_one_byte_over_the_limit_is_431_problem(server: Server) -> None:
    with server.connect() as connection:
        connection.sendall(_head_of(LIMIT + 1))
        answer = _read_answer(connection)
    assert _status(answer) == 431
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower()
    problem = json.loads(body)
    assert problem["code"] == "headers_too_large"
    assert str(LIMIT) in problem["detail"]


def test_a_megabyte_header_is_refused_while_others_are_served(server: Server) -> None:
    # The header never ends: without a bound the server waits for the rest for ever.
    attacker_answer: list[bytes] = []
    started = threading.Event()

    def attack() -> None:
        with server.connect() as connection:
            connection.sendall(REQUEST_LINE + HEADER_NAME)
            started.set()
            try:
                for _ in range(MEGABYTE // 8192):
                    connection.sendall(b"a" * 8192)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused and closed: what is left is read below
            attacker_answer.append(_read_answer(connection))

    attacker = threading.Thread(target=attack)
    attacker.start()
    assert started.wait(PATIENCE_SECONDS)
    other_client = httpx.get(f"{server.url}/healthz", timeout=PATIENCE_SECONDS)
    attacker.join(PATIENCE_SECONDS)
    assert other_client.status_code == 200
    assert not attacker.is_alive()
    answer = attacker_answer[0]
    assert answer == b"" or _status(answer) == 431


def test_a_trickled_header_is_refused_at_the_limit(server: Server) -> None:
    """A slow sender is cut off once the head passes the limit, not when it chooses to stop;
    another client is answered while its head is still open and growing."""
    piece = b"a" * 1024
    sent = 0
    answered_meanwhile = False
    with server.connect() as connection:
        connection.sendall(REQUEST_LINE + HEADER_NAME)
        refused = False
        while sent < MEGABYTE and not refused:
            try:
                connection.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
            if sent == 16 * 1024:
                healthz = httpx.get(f"{server.url}/healthz", timeout=PATIENCE_SECONDS)
                answered_meanwhile = healthz.status_code == 200
            time.sleep(0.002)
            refused = bool(select.select([connection], [], [], 0)[0])
        answer = _read_answer(connection)
    assert answered_meanwhile
    assert sent < MEGABYTE, "the server let the whole megabyte of header in"
    assert answer == b"" or _status(answer) == 431


def test_a_head_sent_a_byte_at_a_time_is_ended_after_the_header_timeout(server: Server) -> None:
    """Otherwise a few thousand such senders hold every connection the server can have."""
    head = REQUEST_LINE + HEADER_NAME + b"a" * 10_000
    sent = 0
    give_up_at = time.monotonic() + 4 * HEADER_TIMEOUT_SECONDS  # the server should, long before
    with server.connect() as connection:
        while sent < len(head) and time.monotonic() < give_up_at:
            try:
                connection.sendall(head[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1
            if select.select([connection], [], [], 0.25)[0]:
                break
        answer = _read_answer(connection)
    assert _status(answer) == 408 or (answer == b"" and sent < len(head))
    if answer:
        assert json.loads(answer.partition(b"\r\n\r\n")[2])["code"] == "headers_timeout"


def test_a_connection_that_never_sends_is_let_go(server: Server) -> None:
    with server.connect() as connection:
        assert select.select([connection], [], [], PATIENCE_SECONDS)[0], "still open"
        assert _read_answer(connection) == b""
