"""A load generator far lighter than the servers it measures.

httpx.AsyncClient saturated a core of its own at about 170 req/s on the 2-core development
machine, so everything measured through it was measured through a starved client. This one
is an asyncio loop writing pre-built HTTP/1.1 requests on keep-alive connections and reading
each response by its Content-Length, nothing else; it reports the CPU it used itself.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]
    cpu_seconds: float  # this process's CPU while the load ran

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p99(self) -> float:
        return self.quantile(0.99)

    def __add__(self, other: LoadResult) -> LoadResult:
        return LoadResult(
            self.requests + other.requests,
            self.seconds + other.seconds,
            self.latencies + other.latencies,
            self.cpu_seconds + other.cpu_seconds,
        )


def request_bytes(url: str, headers: dict[str, str] | None = None) -> bytes:
    """A GET of ``url`` on a keep-alive connection, as bytes ready to write."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _content_length(head: bytes) -> int:
    status = int(head[9:12])
    if status != 200:
        raise RuntimeError(f"answered {status}: {head[:200]!r}")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise RuntimeError("a response without Content-Length (chunked is not read here)")


async def _client(
    host: str,
    port: int,
    requests: itertools.cycle[bytes],
    deadline: float,
    latencies: list[float],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    clock = time.perf_counter
    try:
        while clock() < deadline:
            started = clock()
            writer.write(next(requests))
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(_content_length(head))
            latencies.append(clock() - started)
    finally:
        writer.close()


async def _run(url: str, requests: Sequence[bytes], clients: int, seconds: float) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    cycle = itertools.cycle(requests)
    cpu_before, started = time.process_time(), time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_client(host, port, cycle, deadline, latencies) for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return LoadResult(len(latencies), elapsed, latencies, time.process_time() - cpu_before)


def run_load(url: str, requests: Sequence[bytes], clients: int, seconds: float) -> LoadResult:
    """``clients`` connections to ``url``'s host, each sending the requests (in turn, shared)
    one after the other for ``seconds``; every answer must be a 200 with a Content-Length."""
    return asyncio.run(_run(url, requests, clients, seconds))
