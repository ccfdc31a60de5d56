"""Work on untrusted bytes in child processes that may die without taking the service along.

Native parsers (calamine for workbooks, polars for CSV) can abort the whole process on a hostile
file: calamine allocates a sheet's declared range, and Rust aborts when an allocation fails. So
each such parse runs in a worker process of its own, started with ``python -m
app.core.sandbox_worker``, under an address-space limit, a CPU-time limit per task and a
wall-clock limit enforced from here. A worker that dies, runs out of time or memory is killed and
replaced; the request that caused it gets ``SandboxFailed`` and every other request goes on.

Messages are frames over the worker's stdin and stdout: a JSON header and a byte payload. No
pickle crosses the boundary, so a worker subverted by a hostile file cannot run code here.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import queue
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio

logger = logging.getLogger("jtai.sandbox")

# header length, payload length
FRAME = struct.Struct("<IQ")
# A payload length meaning "sent in pieces as it arrives": each piece's length, then the
# piece, until a length of 0. The service need not hold a pushed list to pass it on.
PIECES = 2**64 - 1
PIECE = struct.Struct("<I")
# An answer's head is a small JSON report (its problems are capped by the list limits).
MAX_HEAD_BYTES = 16 * 1024 * 1024
_IO_BLOCK = 1024 * 1024
# What each pipe to or from a worker may hold (the kernel's, not this process's memory).
PIPE_BYTES = 1024 * 1024

Header = dict[str, Any]
# What a task is given: bytes, or pieces of them as they arrive (sent on as they come).
Payload = bytes | bytearray | memoryview | Iterable[bytes]


@dataclass(frozen=True)
class SandboxLimits:
    memory_bytes: int  # RLIMIT_AS of each worker
    cpu_seconds: int  # CPU time one task may use
    wall_seconds: float  # time one task may take, waiting included
    wait_seconds: float  # how long a task waits for a free worker before SandboxBusy
    # Threads each worker's native libraries (polars) may run; None leaves them one a core.
    threads: int | None = None


class SandboxFailed(Exception):
    """The worker died or was killed while on this task (memory, CPU or time limit, a crash)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SandboxBusy(Exception):
    """Every worker stayed busy for longer than the task may wait."""


def encode_frame(
    header: Mapping[str, Any], payload: bytes | bytearray | memoryview
) -> list[bytes | bytearray | memoryview]:
    head = json.dumps(header, separators=(",", ":")).encode()
    return [FRAME.pack(len(head), len(payload)), head, payload]


def _widen_pipe(fd: int) -> None:
    """Let a pipe hold ``PIPE_BYTES`` (Linux; elsewhere, or over the system's maximum, it
    keeps its 64 KiB). A worker answering in blocks writes the next ones while the service
    stores the last: with 64 KiB, less than one block, it stalled on each insert instead."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


class _Worker:
    def __init__(self, handler: str, args: Sequence[str], limits: SandboxLimits) -> None:
        command = [
            sys.executable,
            "-m",
            "app.core.sandbox_worker",
            handler,
            str(limits.memory_bytes),
            str(limits.cpu_seconds),
            *args,
        ]
        # A worker cannot honestly answer with more than it may hold: a frame declaring more
        # is a broken or subverted worker, refused before the service reads it into memory.
        self._largest_frame = limits.memory_bytes
        environment = {**os.environ, "RUST_BACKTRACE": "0"}
        if limits.threads is not None:
            # An operator's own setting wins.
            environment.setdefault("POLARS_MAX_THREADS", str(limits.threads))
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            close_fds=True,
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._in = self.process.stdin.fileno()
        self._out = self.process.stdout.fileno()
        for fd in (self._in, self._out):
            _widen_pipe(fd)

    def send(self, header: Mapping[str, Any], payload: Payload, wall_seconds: float) -> None:
        """Send a task; waiting on the pipe is limited, waiting on pieces of the payload (a
        client still sending them) is not this task's time."""
        if isinstance(payload, bytes | bytearray | memoryview):
            for part in encode_frame(header, payload):
                self._write(part, time.monotonic() + wall_seconds)
            return
        head = json.dumps(header, separators=(",", ":")).encode()
        self._write(FRAME.pack(len(head), PIECES) + head, time.monotonic() + wall_seconds)
        for piece in payload:
            if piece:
                self._write(PIECE.pack(len(piece)), time.monotonic() + wall_seconds)
                self._write(piece, time.monotonic() + wall_seconds)
        self._write(PIECE.pack(0), time.monotonic() + wall_seconds)

    def receive(self, deadline: float) -> tuple[Header, bytes]:
        head_length, payload_length = FRAME.unpack(self._read(FRAME.size, deadline))
        if head_length > MAX_HEAD_BYTES or payload_length > self._largest_frame:
            raise SandboxFailed(f"answered a frame too large ({head_length}, {payload_length})")
        answer = json.loads(self._read(head_length, deadline))
        return answer, self._read(payload_length, deadline)

    def _write(self, data: bytes | bytearray | memoryview, deadline: float) -> None:
        view = memoryview(data)
        while view:
            self._wait(self._in, deadline, writing=True)
            try:
                written = os.write(self._in, view[:_IO_BLOCK])
            except (BrokenPipeError, ConnectionResetError):
                raise SandboxFailed(self._death()) from None
            view = view[written:]

    def _read(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            self._wait(self._out, deadline, writing=False)
            chunk = os.read(self._out, min(remaining, _IO_BLOCK))
            if not chunk:
                raise SandboxFailed(self._death())
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    @staticmethod
    def _wait(fd: int, deadline: float, *, writing: bool) -> None:
        left = deadline - time.monotonic()
        ready = (
            select.select([], [fd], [], max(left, 0))
            if writing
            else select.select([fd], [], [], max(left, 0))
        )
        if not any(ready):
            raise SandboxFailed("it took longer than the time allowed")

    def _death(self) -> str:
        code = self.process.wait(timeout=5)
        if code < 0:
            name = signal.Signals(-code).name
            reasons = {
                "SIGABRT": "it needed more memory than allowed",
                "SIGKILL": "it needed more memory or time than allowed",
                "SIGXCPU": "it needed more processor time than allowed",
                "SIGSEGV": "the parser crashed",
            }
            return reasons.get(name, f"the worker was stopped by {name}")
        return f"the parser failed (status {code})"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class Sandbox:
    """A small pool of worker processes running ``handler`` (``module:factory``).

    Workers start on first use and stay; one that fails a task is killed and replaced by a new
    one when next needed. ``run`` blocks, so call it from a worker thread, not the event loop.
    """

    def __init__(
        self, handler: str, args: Sequence[str], workers: int, limits: SandboxLimits
    ) -> None:
        self._handler = handler
        self._args = list(args)
        self._limits = limits
        self._workers = workers
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(workers):
            self._idle.put(None)  # a slot; the process starts when the slot is first used
        self._lock = threading.Lock()
        self._live: set[_Worker] = set()
        # Workers go with the pool: when it is collected (an app built by a test or the demo)
        # or at exit, whichever comes first. The finalizer holds the set, not the pool.
        self._finalizer = weakref.finalize(self, _kill_all, self._live, self._lock)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait, without holding a thread, until a worker is free for the caller; SandboxBusy
        after ``wait_seconds``. Callers take a slot before they read what they will send, so
        requests queued for a worker hold neither a thread nor their bodies in memory."""
        limiter = self._limiter()
        try:
            with anyio.fail_after(self._limits.wait_seconds):
                await limiter.acquire()
        except TimeoutError:
            raise SandboxBusy from None
        try:
            yield
        finally:
            limiter.release()

    def _limiter(self) -> anyio.CapacityLimiter:
        # One per event loop: anyio's limiter belongs to the loop it was made in (a server
        # has one; tests make a loop per client).
        loop = asyncio.get_running_loop()
        with self._lock:
            limiter = self._limiters.get(loop)
            if limiter is None:
                limiter = self._limiters[loop] = anyio.CapacityLimiter(self._workers)
        return limiter

    def run(self, header: Mapping[str, Any], payload: Payload) -> tuple[Header, bytes]:
        """The task's answer; for a task answered in several frames, the first (the rest are
        read and dropped)."""
        frames = self.stream(header, payload)
        answer = next(frames)
        for _ in frames:
            pass
        return answer

    def stream(self, header: Mapping[str, Any], payload: Payload) -> Iterator[tuple[Header, bytes]]:
        """The task's answer frames as they come: the first, then as many more as its header's
        ``frames`` says (a reader sends rows in blocks while the caller stores them, so
        neither side holds them all). One deadline covers them all. The worker goes back to
        the pool once the last is read; one left unread (the generator closed early) is
        killed, since it is still writing."""
        try:
            worker = self._idle.get(timeout=self._limits.wait_seconds)
        except queue.Empty:
            raise SandboxBusy from None
        try:
            if worker is None or not worker.alive:  # never started, closed, or died idle
                self._discard(worker)
                worker = self._start()
            worker.send(header, payload, self._limits.wall_seconds)
            deadline = time.monotonic() + self._limits.wall_seconds
            first = worker.receive(deadline)
            yield first
            for _ in range(int(first[0].get("frames", 0))):
                yield worker.receive(deadline)
        except SandboxFailed as failure:
            logger.warning("sandboxed %s failed: %s", self._handler, failure.reason)
            self._discard(worker)
            self._idle.put(None)
            raise
        except BaseException:  # the caller's own failure, or it stopped reading (GeneratorExit)
            self._discard(worker)
            self._idle.put(None)
            raise
        self._idle.put(worker)

    def _start(self) -> _Worker:
        worker = _Worker(self._handler, self._args, self._limits)
        with self._lock:
            self._live.add(worker)
        return worker

    def _discard(self, worker: _Worker | None) -> None:
        if worker is None:
            return
        worker.kill()
        with self._lock:
            self._live.discard(worker)

    def close(self) -> None:
        """Stop every worker; the pool starts new ones if it is used again."""
        _kill_all(self._live, self._lock)


def _kill_all(live: set[_Worker], lock: threading.Lock) -> None:
    with lock:
        workers = list(live)
        live.clear()
    for worker in workers:
        worker.kill()
