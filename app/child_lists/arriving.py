"""A pushed list's body as it arrives: its first bytes looked at, the rest passed on, and the
whole of it due within a time limit (it holds one of the few list readers meanwhile)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio

from app.core.errors import RequestTimeout


async def peeked(
    stream: AsyncIterator[bytes], size: int, within_seconds: float
) -> tuple[bytes, AsyncIterator[bytes]]:
    """The body's first ``size`` bytes (or all of a shorter body), and the whole body still to
    be read: a file sent as CSV or as plain bytes is told apart by its start (a workbook is a
    ZIP), without holding the rest. The whole body must arrive within ``within_seconds``."""
    deadline = anyio.current_time() + within_seconds
    head = b""
    while len(head) < size:
        chunk = await _next_piece(stream, deadline, within_seconds)
        if chunk is None:
            break
        head += chunk

    async def whole() -> AsyncIterator[bytes]:
        if head:
            yield head
        while (chunk := await _next_piece(stream, deadline, within_seconds)) is not None:
            yield chunk

    return head[:size], whole()


async def _next_piece(
    stream: AsyncIterator[bytes], deadline: float, within_seconds: float
) -> bytes | None:
    try:
        with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
            return await anext(stream)
    except StopAsyncIteration:
        return None
    except TimeoutError:
        raise RequestTimeout(
            f"The list did not arrive within {within_seconds:g} seconds; nothing was stored.",
            code="body_timeout",
        ) from None
