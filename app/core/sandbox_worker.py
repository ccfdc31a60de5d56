"""The child side of ``app.core.sandbox``: limits itself, then answers frames until stdin ends.

``python -m app.core.sandbox_worker MODULE:FACTORY MEMORY_BYTES CPU_SECONDS [ARG ...]``. The
factory is called once with the extra arguments and returns the handler, a function from
(header, payload) to (header, payload).
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

from app.core.sandbox import FRAME, PIECE, PIECES, Header, encode_frame

Frame = tuple[Header, bytes]
# One frame, or several: the first header's ``frames`` says how many follow it.
Handler = Callable[[Header, bytes], Frame | Iterable[Frame]]


def _limit_memory(memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no image of child data


def _limit_cpu(seconds: int) -> None:
    """This task may use ``seconds`` more of CPU time; past it the kernel sends SIGXCPU, whose
    default action ends the process. The soft limit moves with each task, the hard one stays."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    data = bytearray(size)
    view, filled = memoryview(data), 0
    while filled < size:
        count = stream.readinto(view[filled:])  # type: ignore[attr-defined]
        if not count:
            return None
        filled += count
    return bytes(data)


def _read_pieces(stream: BinaryIO) -> bytes | None:
    """A payload sent in pieces (see ``sandbox.PIECES``), joined once at the end: a growing
    bytearray copied into bytes at the end made two buffers of the whole body, each of them
    new pages to fault in (18,000 each for a 70 MB list)."""
    pieces: list[bytes] = []
    while (length := _read_exact(stream, PIECE.size)) is not None:
        (size,) = PIECE.unpack(length)
        if size == 0:
            return b"".join(pieces)
        piece = _read_exact(stream, size)
        if piece is None:
            return None
        pieces.append(piece)
    return None


def _load_handler(path: str, args: list[str]) -> Handler:
    module_name, _, factory_name = path.partition(":")
    factory: Callable[[list[str]], Handler] = getattr(
        importlib.import_module(module_name), factory_name
    )
    return factory(args)


def _answer(handler: Handler, header: Header, payload: bytes, sink: BinaryIO) -> None:
    try:
        answer = handler(header, payload)
        frames = iter([answer] if isinstance(answer, tuple) else answer)
        first = next(frames)
    except MemoryError:
        first = {"status": "failed", "reason": "it needed more memory than allowed"}, b""
        frames = iter(())
    except Exception:  # a bug in our own code: say so, and stay up for the next task
        first = {"status": "failed", "reason": "internal", "trace": traceback.format_exc()}, b""
        frames = iter(())
    _write(sink, first)
    # The rest were promised by the first: one that fails now cannot be answered within the
    # protocol, so the worker ends and the service sees it die.
    for _ in range(int(first[0].get("frames", 0))):
        _write(sink, next(frames))


def _write(sink: BinaryIO, frame: Frame) -> None:
    for piece in encode_frame(*frame):
        sink.write(piece)
    sink.flush()


def serve(handler: Handler, source: BinaryIO, sink: BinaryIO, cpu_seconds: int) -> None:
    while (frame := _read_exact(source, FRAME.size)) is not None:
        head_length, payload_length = FRAME.unpack(frame)
        head = _read_exact(source, head_length)
        payload = (
            _read_pieces(source)
            if payload_length == PIECES
            else _read_exact(source, payload_length)
        )
        if head is None or payload is None:
            return
        _limit_cpu(cpu_seconds)
        header: dict[str, Any] = json.loads(head)
        _answer(handler, header, payload, sink)
        del payload
        # Cycles are collected between tasks, not during one: a parser's hundreds of thousands
        # of row lists made each of the collector's passes walk them all again (a workbook's
        # rows took twice as long to turn into columns). The address-space limit still holds.
        gc.collect()


def main(argv: list[str]) -> None:
    handler_path, memory_bytes, cpu_seconds, *args = argv
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    sink = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _limit_memory(int(memory_bytes))
    handler = _load_handler(handler_path, args)
    gc.disable()
    # What the imports and the handler's set-up made lives as long as the worker: kept out of
    # the collection after each task, which otherwise walked it all again (40 ms a task).
    gc.freeze()
    serve(handler, sys.stdin.buffer, sink, int(cpu_seconds))


if __name__ == "__main__":
    main(sys.argv[1:])
