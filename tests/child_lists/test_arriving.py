"""A pushed list's body must arrive in time: a trickle must not hold a list reader for ever
(the attacker's pass: two pushes sending a byte every two seconds held both readers, and
everyone else's pushes got 503 while they went on)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from app.child_lists.arriving import peeked
from app.core.errors import RequestTimeout


async def _arriving(pieces: list[bytes], pause: float) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece
        await anyio.sleep(pause)


async def _whole(body: AsyncIterator[bytes]) -> bytes:
    return b"".join([piece async for piece in body])


def test_the_start_is_peeked_and_the_whole_body_still_passed_on() -> None:
    async def run() -> tuple[bytes, bytes]:
        head, body = await peeked(_arriving([b"P", b"K\x03", b"\x04rest", b"!"], 0), 4, 5)
        return head, await _whole(body)

    assert anyio.run(run) == (b"PK\x03\x04", b"PK\x03\x04rest!")


def test_a_body_shorter_than_the_peek_is_all_there_is() -> None:
    async def run() -> tuple[bytes, bytes]:
        head, body = await peeked(_arriving([b"a,b"], 0), 4, 5)
        return head, await _whole(body)

    assert anyio.run(run) == (b"a,b", b"a,b")


def test_a_trickle_is_cut_off_at_the_deadline_with_408() -> None:
    async def run() -> None:
        _head, body = await peeked(_arriving([b"PK\x03\x04", b"a", b"b", b"c"], 0.2), 4, 0.3)
        await _whole(body)

    with pytest.raises(RequestTimeout) as refused:
        anyio.run(run)
    assert refused.value.code == "body_timeout"
    assert refused.value.status == 408


def test_a_sender_gone_silent_is_cut_off_too() -> None:
    async def silent() -> AsyncIterator[bytes]:
        yield b"child_id"
        await anyio.sleep(60)
        yield b"never"

    async def run() -> None:
        with anyio.fail_after(5):  # the test's own bound: the body's is 0.2 s
            _head, body = await peeked(silent(), 4, 0.2)
            await _whole(body)

    with pytest.raises(RequestTimeout):
        anyio.run(run)
