"""Reading a pushed list in a sandboxed worker process (``app.core.sandbox``).

The whole of ``ingest`` runs there: the parsers of untrusted bytes (calamine, polars' CSV reader,
the JSON decoder) and the column-wise checks over what they produced. What comes back is the
report as JSON, then the accepted rows as the blocks they are stored in (Arrow IPC, encoded
there while the rows are checked, sent one by one while the service stores the previous); a
worker that dies on a hostile file becomes an ``UnreadableFileError`` for that push alone.
"""

from __future__ import annotations

import io
import logging
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from app.child_lists.parsing.encoded import BLOCK_ROWS, block_columns, block_count, encode_blocks
from app.child_lists.parsing.ingest import ingest
from app.child_lists.parsing.types import (
    DEFAULT_LIMITS,
    BodyTooLargeError,
    EncodedBlock,
    IngestContext,
    IngestError,
    IngestResult,
    Limits,
    ListRead,
    Problem,
    UnreadableFileError,
    UnsupportedMediaTypeError,
)
from app.core.sandbox import Header, Sandbox, SandboxFailed
from app.themes.registry import load_themes
from app.themes.schema.lists import ListSpec
from app.themes.schema.theme import Theme

logger = logging.getLogger("jtai.child_lists")

HANDLER = "app.child_lists.parsing.isolated:make_handler"
_ERRORS: dict[str, type[IngestError]] = {
    cls.__name__: cls for cls in (UnsupportedMediaTypeError, BodyTooLargeError, UnreadableFileError)
}


class ReaderFailed(UnreadableFileError):
    """The worker reading the list died or ran out of time: a hostile or pathological file."""


# --- the worker's side ----------------------------------------------------------------------


def make_handler(theme_dirs: list[str]) -> Any:
    """The worker's handler; themes are read from the same folders as the service's own."""
    themes = load_themes([Path(d) for d in theme_dirs])

    def handle(header: Header, payload: bytes) -> Iterator[tuple[Header, bytes]]:
        theme = themes.get(header["theme"])
        spec = theme.get_list(header["list"])
        assert spec is not None
        context = IngestContext(
            today=date.fromisoformat(header["today"]),
            selections={k: frozenset(v) for k, v in header["selections"].items()},
        )
        limits = Limits(**header["limits"])
        encoding = _Encoding(spec.child_id_field) if header.get("blocks") else None
        try:
            try:
                result = ingest(
                    payload,
                    header["media_type"],
                    spec,
                    theme,
                    context,
                    limits=limits,
                    rows_ready=encoding.start if encoding is not None else None,
                )
            except IngestError as exc:
                error = {"status": "refused", "error": type(exc).__name__}
                yield error | {"code": exc.code, "message": exc.message}, b""
                return
            del payload  # the body is read: what stays is the rows
            yield from _answer(result, encoding)
        finally:
            if encoding is not None:
                encoding.stop()  # a refused list's blocks are not finished, nor kept

    return handle


class _Encoding:
    """The rows encoded into blocks in a thread of their own, from the moment they are typed:
    the checks run meanwhile (mostly in polars, without the GIL), so the blocks are ready or
    on their way when the report is, instead of being encoded only after it. (The report
    still goes first: the service stores nothing of a list it has not seen accepted.)"""

    def __init__(self, child_id_field: str) -> None:
        self._child_id_field = child_id_field
        # Blocks in order, then None; or the encoder's failure. Unbounded: the encoded list is
        # a few times smaller than the typed frame this process already holds.
        self._blocks: queue.SimpleQueue[EncodedBlock | BaseException | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, frame: pl.DataFrame, numbers: pl.Series) -> None:
        self._thread = threading.Thread(target=self._encode, args=(frame, numbers), daemon=True)
        self._thread.start()

    def _encode(self, frame: pl.DataFrame, numbers: pl.Series) -> None:
        try:
            for block in encode_blocks(frame, numbers, self._child_id_field):
                if self._stopping.is_set():
                    return
                self._blocks.put(block)
        except BaseException as exc:  # raised where the blocks are taken, in the task
            self._blocks.put(exc)
            return
        self._blocks.put(None)

    def blocks(self) -> Iterator[EncodedBlock]:
        if self._thread is None:
            raise RuntimeError("the rows were never handed over for encoding")
        while (block := self._blocks.get()) is not None:
            if isinstance(block, BaseException):
                raise block
            yield block

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()


def _answer(result: IngestResult, encoding: _Encoding | None) -> Iterator[tuple[Header, bytes]]:
    """The report first, then (accepted, and wanted) the rows block by block: the service
    stores each while the next is encoded here."""
    sending = encoding is not None and result.accepted
    yield (
        {
            "status": "ok",
            "frames": block_count(result.row_count) if sending else 0,
            "problems": [p.as_dict() for p in result.problems],
            "problem_count": result.problem_count,
            "error_count": result.error_count,
            "warning_count": result.warning_count,
            "headings": result.headings,
            "sheet": result.sheet,
            "row_count": result.row_count,
            "columns": list(result.frame.columns),
        },
        b"",
    )
    if encoding is not None and sending:
        for block in encoding.blocks():
            header = {"status": "block"} | asdict(block)
            data = header.pop("data")
            yield header, data


# --- the service's side ---------------------------------------------------------------------


class IsolatedListReader:
    """``ingest`` with the same arguments, run in a sandboxed worker."""

    def __init__(self, sandbox: Sandbox, limits: Limits = DEFAULT_LIMITS) -> None:
        self._sandbox = sandbox
        self._limits = limits

    def __call__(
        self,
        body: Iterable[bytes],
        media_type: str,
        spec: ListSpec,
        theme: Theme,
        context: IngestContext,
        blocks: bool,
    ) -> ListRead:
        header = {
            "theme": theme.key,
            "list": spec.key,
            "media_type": media_type,
            "today": context.today.isoformat(),
            "selections": {k: sorted(v) for k, v in context.selections.items()},
            "limits": asdict(self._limits),
            "blocks": blocks,
        }
        frames = _failures_named(self._sandbox.stream(header, body))
        answer, _ = next(frames)
        if not answer.get("frames"):
            for _ in frames:  # none follow: this returns the worker to the pool
                pass
        return _decode(answer, _blocks(frames, answer))

    def slot(self) -> AbstractAsyncContextManager[None]:
        """Wait for a free reader before reading the body (see ``Sandbox.slot``)."""
        return self._sandbox.slot()

    def close(self) -> None:
        self._sandbox.close()


def _failures_named(frames: Iterator[tuple[Header, bytes]]) -> Iterator[tuple[Header, bytes]]:
    try:
        yield from frames
    except SandboxFailed as failure:
        raise ReaderFailed(
            "file_too_costly",
            f"The list could not be read within the service's limits ({failure.reason}); "
            "nothing was stored. Check that the file is the list itself, not a copy with "
            "formatting or cells far beyond the data.",
        ) from None
    finally:
        frames.close()  # type: ignore[attr-defined]  # a generator: frees the worker now


def _decode(answer: Mapping[str, Any], blocks: Iterator[EncodedBlock]) -> ListRead:
    status = answer.get("status")
    if status == "refused":
        raise _ERRORS[answer["error"]](answer["code"], answer["message"])
    if status != "ok":
        # A bug of ours met by this file: the trace is for us; the agency gets a 422, not a 500.
        logger.error("reading a list failed in its worker: %s", answer.get("trace") or answer)
        raise ReaderFailed(
            "unreadable_list",
            "The list could not be read; nothing was stored. The service's operators have the "
            "details.",
        )
    return ListRead(
        problems=[Problem(**p) for p in answer["problems"]],
        problem_count=answer["problem_count"],
        error_count=answer["error_count"],
        warning_count=answer["warning_count"],
        headings=answer["headings"],
        sheet=answer.get("sheet"),
        row_count=answer["row_count"],
        columns=list(answer["columns"]),
        blocks=blocks,
    )


def _blocks(
    frames: Iterator[tuple[Header, bytes]], answer: Mapping[str, Any]
) -> Iterator[EncodedBlock]:
    """The blocks as the worker sends them, each checked against what the report promised (a
    worker is not trusted to be well-behaved: its blocks must follow on, add up to the rows,
    and hold the list's columns and nothing else)."""
    expected = block_columns(answer["columns"])
    rows = 0
    if not answer.get("frames"):
        return
    for number, (header, data) in enumerate(frames):
        block = EncodedBlock(
            number=int(header["number"]),
            first_row=int(header["first_row"]),
            row_count=int(header["row_count"]),
            child_ids=str(header["child_ids"]),
            data=data,
        )
        columns = list(pl.read_ipc_schema(io.BytesIO(data)))
        if (
            header.get("status") != "block"
            or block.number != number
            or block.first_row != rows
            or not 0 < block.row_count <= BLOCK_ROWS
            or rows + block.row_count > int(answer["row_count"])
            or columns != expected
        ):
            raise ReaderFailed("unreadable_list", "The list's reader sent a damaged block.")
        rows += block.row_count
        yield block
    if rows != answer["row_count"]:
        raise ReaderFailed("unreadable_list", "The list's reader sent too few rows.")
