"""Handing an upload's bytes to a worker thread while the request goes on being read.

The store is written from a worker thread (boto3 blocks). If that thread pulled each chunk
from the request only when it wanted one, nothing would be read while it sends a part to the
store, and the client would wait through every part: reading and storing would take turns.
Here a task on the event loop reads ahead into a small bounded buffer, so the two overlap and
memory stays bounded (about ``BLOCKS`` x ``BLOCK_BYTES`` per upload). Chunks travel in
batches, as they came: joining them here would copy every byte once more.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

import anyio
from anyio import from_thread, to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from app.storage.base import Chunk

BLOCK_BYTES = 1024 * 1024
# More than one S3 part (6 MiB): while the store is busy with the parts in flight, the next
# part fills from here, so the store is not left waiting on the client when one finishes.
# Measured in six interleaved runs a side against boto3 into SeaweedFS: 0.80-0.83x with 4
# blocks, 0.86x with 8; scripts/bench_documents.py with BLOCKS changed repeats the comparison.
BLOCKS = 8

T = TypeVar("T")


class _ReadAhead:
    def __init__(self, head: bytes, rest: AsyncIterator[Chunk]) -> None:
        self._head = head
        self._rest = rest
        self._send: MemoryObjectSendStream[list[Chunk]]
        self._receive: MemoryObjectReceiveStream[list[Chunk]]
        self._send, self._receive = anyio.create_memory_object_stream[list[Chunk]](BLOCKS)
        self._error: Exception | None = None

    async def pump(self) -> None:
        """Read the request in batches of chunks; a failure is kept for the reader, never lost."""
        batch: list[Chunk] = []
        size = 0
        try:
            async for chunk in self._rest:
                batch.append(chunk)
                size += len(chunk)
                if size >= BLOCK_BYTES:
                    await self._send.send(batch)
                    batch, size = [], 0
            if batch:
                await self._send.send(batch)
        except anyio.BrokenResourceError:
            pass  # the reader stopped early (a refused file): nothing more is wanted
        except Exception as exc:
            # Set before the stream closes, so the reader sees it when the blocks run out and
            # a dropped connection can never pass for the end of the file.
            self._error = exc
        finally:
            self._send.close()

    def chunks(self) -> Iterator[Chunk]:
        """The file's bytes, for the worker thread."""
        try:
            if self._head:
                yield self._head
            while True:
                try:
                    batch = from_thread.run(self._receive.receive)
                except anyio.EndOfStream:
                    break
                yield from batch
            if self._error is not None:
                raise self._error
        finally:
            # Closing lets a pump still sending stop at once; it is only possible from the
            # worker thread (a generator collected elsewhere is left to the cancelled pump).
            with contextlib.suppress(RuntimeError):
                from_thread.run_sync(self._receive.close)


async def consume_in_thread(
    head: bytes, rest: AsyncIterator[Chunk], consume: Callable[[Iterator[Chunk]], T]
) -> T:
    """Run ``consume`` on the stream's bytes in a worker thread while the stream is read ahead."""
    ahead = _ReadAhead(head, rest)
    failure: BaseException | None = None
    result: T | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(ahead.pump)
        try:
            result = await to_thread.run_sync(consume, ahead.chunks())
        except BaseException as exc:  # raised outside the group, not wrapped in a group
            failure = exc
        group.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return result  # type: ignore[return-value]
