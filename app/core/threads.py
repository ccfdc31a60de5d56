"""Code in a worker thread (``anyio.to_thread``) reading what the event loop receives."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

from anyio import from_thread

T = TypeVar("T")


def blocking_iter(items: AsyncIterator[T]) -> Iterator[T]:
    """``items`` one by one, each awaited on the loop that owns them (a request's body as it
    arrives, say), for a function running in one of that loop's worker threads."""

    async def following() -> T:
        return await anext(items)

    while True:
        try:
            yield from_thread.run(following)
        except StopAsyncIteration:
            return
