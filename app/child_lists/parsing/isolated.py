"""Reading a pushed list in a sandboxed worker process (``app.core.sandbox``).

The whole of ``ingest`` runs there: the parsers of untrusted bytes (calamine, polars' CSV reader,
the JSON decoder) and the column-wise checks over what they produced. What comes back is the
report as JSON and the accepted rows as an Arrow IPC frame; a worker that dies on a hostile file
becomes an ``UnreadableFileError`` for that push alone.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from app.child_lists.parsing.ingest import ingest
from app.child_lists.parsing.types import (
    DEFAULT_LIMITS,
    BodyTooLargeError,
    IngestContext,
    IngestError,
    IngestResult,
    Limits,
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
_ROW_NUMBERS = "#row_numbers"
_ERRORS: dict[str, type[IngestError]] = {
    cls.__name__: cls for cls in (UnsupportedMediaTypeError, BodyTooLargeError, UnreadableFileError)
}


class ReaderFailed(UnreadableFileError):
    """The worker reading the list died or ran out of time: a hostile or pathological file."""


# --- the worker's side ----------------------------------------------------------------------


def make_handler(theme_dirs: list[str]) -> Any:
    """The worker's handler; themes are read from the same folders as the service's own."""
    themes = load_themes([Path(d) for d in theme_dirs])

    def handle(header: Header, payload: bytes) -> tuple[Header, bytes]:
        theme = themes.get(header["theme"])
        spec = theme.get_list(header["list"])
        assert spec is not None
        context = IngestContext(
            today=date.fromisoformat(header["today"]),
            selections={k: frozenset(v) for k, v in header["selections"].items()},
        )
        limits = Limits(**header["limits"])
        try:
            result = ingest(payload, header["media_type"], spec, theme, context, limits=limits)
        except IngestError as exc:
            error = {"status": "refused", "error": type(exc).__name__}
            return error | {"code": exc.code, "message": exc.message}, b""
        return _encode(result)

    return handle


def _encode(result: IngestResult) -> tuple[Header, bytes]:
    frame = result.frame.with_columns(pl.Series(_ROW_NUMBERS, result.row_numbers, pl.Int64))
    sink = io.BytesIO()
    frame.write_ipc(sink, compression="uncompressed")
    header = {
        "status": "ok",
        "problems": [p.as_dict() for p in result.problems],
        "problem_count": result.problem_count,
        "error_count": result.error_count,
        "warning_count": result.warning_count,
        "headings": result.headings,
        "sheet": result.sheet,
    }
    return header, sink.getvalue()


# --- the service's side ---------------------------------------------------------------------


class IsolatedListReader:
    """``ingest`` with the same arguments, run in a sandboxed worker."""

    def __init__(self, sandbox: Sandbox, limits: Limits = DEFAULT_LIMITS) -> None:
        self._sandbox = sandbox
        self._limits = limits

    def __call__(
        self,
        body: bytes,
        media_type: str,
        spec: ListSpec,
        theme: Theme,
        context: IngestContext,
    ) -> IngestResult:
        header = {
            "theme": theme.key,
            "list": spec.key,
            "media_type": media_type,
            "today": context.today.isoformat(),
            "selections": {k: sorted(v) for k, v in context.selections.items()},
            "limits": asdict(self._limits),
        }
        try:
            answer, payload = self._sandbox.run(header, body)
        except SandboxFailed as failure:
            raise ReaderFailed(
                "file_too_costly",
                f"The list could not be read within the service's limits ({failure.reason}); "
                "nothing was stored. Check that the file is the list itself, not a copy with "
                "formatting or cells far beyond the data.",
            ) from None
        return _decode(answer, payload)

    def slot(self) -> AbstractAsyncContextManager[None]:
        """Wait for a free reader before reading the body (see ``Sandbox.slot``)."""
        return self._sandbox.slot()

    def close(self) -> None:
        self._sandbox.close()


def _decode(answer: Mapping[str, Any], payload: bytes) -> IngestResult:
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
    frame = pl.read_ipc(io.BytesIO(payload))
    return IngestResult(
        frame=frame.drop(_ROW_NUMBERS),
        row_numbers=frame[_ROW_NUMBERS].to_list(),
        problems=[Problem(**p) for p in answer["problems"]],
        problem_count=answer["problem_count"],
        error_count=answer["error_count"],
        warning_count=answer["warning_count"],
        headings=answer["headings"],
        sheet=answer.get("sheet"),
    )
