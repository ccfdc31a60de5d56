"""Reading an upload ahead of the thread that stores it: order, failures, early stops."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from app.documents.read_ahead import BLOCK_BYTES, BLOCKS, consume_in_thread


async def _stream(chunks: list[bytes], then: Exception | None = None) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await anyio.sleep(0)
        yield chunk
    if then is not None:
        raise then


def test_every_byte_arrives_in_order() -> None:
    chunks = [bytes([n % 251]) * 70_000 for n in range(60)]  # about 4 MiB in odd sizes

    async def run() -> bytes:
        return await consume_in_thread(b"head", _stream(chunks), lambda got: b"".join(got))

    assert anyio.run(run) == b"head" + b"".join(chunks)


def test_a_broken_stream_is_an_error_not_an_early_end() -> None:
    # A dropped connection must never look like the end of a (shorter) file.
    async def run() -> int:
        broken = _stream([b"x" * 1000] * 5, then=ConnectionResetError("client went away"))
        return await consume_in_thread(b"", broken, lambda got: sum(len(c) for c in got))

    with pytest.raises(ConnectionResetError, match="client went away"):
        anyio.run(run)


def test_a_reader_that_stops_early_stops_the_reading() -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b"z" * 65_536

    def refuse_after_first(got: Iterator[bytes]) -> None:
        next(got)
        raise ValueError("too large")

    async def run() -> None:
        await consume_in_thread(b"", endless(), refuse_after_first)

    with pytest.raises(ValueError, match="too large"):
        anyio.run(run)
    # What was read ahead is bounded by the buffer, not by the (endless) stream.
    assert pulled * 65_536 <= (BLOCKS + 2) * BLOCK_BYTES
