"""Progress bars on stderr (rich when it is installed, a plain line otherwise) and tables."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol

try:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.table import Table
    from rich.text import Text

    HAVE_RICH = True
except ImportError:  # pragma: no cover (typer brings rich; this keeps a bare install working)
    HAVE_RICH = False


class Bar(Protocol):
    def update(self, completed: int) -> None: ...


class Bars(Protocol):
    def bar(self, label: str, total: int) -> Bar: ...

    def __enter__(self) -> Bars: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


def _console(err: bool) -> Any:
    console = Console(stderr=err)
    if not console.is_terminal:
        # Captured output (scripts, CI, tests) should not be wrapped at 80 columns, unless
        # COLUMNS says how wide it is.
        width = os.environ.get("COLUMNS", "")
        console = Console(stderr=err, width=int(width) if width.isdigit() else 200)
    return console


class _RichBar:
    def __init__(self, progress: Any, task: Any) -> None:
        self._progress, self._task = progress, task

    def update(self, completed: int) -> None:
        self._progress.update(self._task, completed=completed)


class _RichBars:
    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description}", style="bold"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=_console(err=True),
            transient=False,
        )

    def bar(self, label: str, total: int) -> Bar:
        task: TaskID = self._progress.add_task(label[-60:], total=total)
        return _RichBar(self._progress, task)

    def __enter__(self) -> Bars:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()


class _PlainBar:
    def __init__(self, label: str, total: int) -> None:
        self._label, self._total, self._shown = label, max(total, 1), -1

    def update(self, completed: int) -> None:
        # A line per tenth, not per chunk: logs of scripted runs stay readable.
        step = min(10, completed * 10 // self._total)
        if step > self._shown:
            self._shown = step
            print(f"{self._label}: {step * 10}%", file=sys.stderr)


class _PlainBars:
    def bar(self, label: str, total: int) -> Bar:
        return _PlainBar(label, total)

    def __enter__(self) -> Bars:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class _NoBar:
    def update(self, completed: int) -> None:
        return None


class _NoBars(_PlainBars):
    def bar(self, label: str, total: int) -> Bar:
        return _NoBar()


def progress_bars(enabled: bool = True) -> Bars:
    if not enabled:
        return _NoBars()
    return _RichBars() if HAVE_RICH else _PlainBars()


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    err: bool = False,
    id_columns: Sequence[str] = (),
    whole_columns: Sequence[str] = (),
) -> None:
    """A table; ``id_columns`` hold UUIDs, kept whole on one line (a UUID folded in two
    cannot be copied), as are ``whole_columns``; the other columns wrap to make room."""
    cells = [["" if value is None else str(value) for value in row] for row in rows]
    if HAVE_RICH:
        table = Table(title=title, show_lines=False)
        for column in columns:
            # Ids, and short values that read wrongly when broken (times), are never wrapped:
            # the other columns wrap to make room for them.
            whole = column in id_columns or column in whole_columns
            table.add_column(column, overflow="fold", no_wrap=whole)
        for row in cells:
            # As text, not markup: a title such as "[draft] plan" is shown as it is.
            table.add_row(*(Text(cell) for cell in row))
        _console(err).print(table)
        return
    out = sys.stderr if err else sys.stdout  # pragma: no cover
    print(title, file=out)  # pragma: no cover
    for row in [list(columns), *cells]:  # pragma: no cover
        print("\t".join(row), file=out)


def echo(message: str, err: bool = False) -> None:
    if HAVE_RICH:
        _console(err).print(message, markup=False, highlight=False, soft_wrap=True)
    else:  # pragma: no cover
        print(message, file=sys.stderr if err else sys.stdout)
