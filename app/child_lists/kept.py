"""What a process keeps of list versions it has read: versions never change after their push,
so nothing kept goes stale (a purge drops what it purged). Bounded, least recently read first
out; shared by the worker threads of one process, hence the locks."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Collection
from typing import Generic, NamedTuple, TypeVar

import polars as pl

# What DECODED keeps a frame by: a version, a block of it (None: all), some columns (None: all).
Decoded = tuple[uuid.UUID, int | None, tuple[str, ...] | None]


K = TypeVar("K")
V = TypeVar("V")


class Budgeted(Generic[K, V]):
    """Values by key, the least recently read dropped first once they hold more than
    ``budget`` bytes as ``size_of`` counts them. Shared by the worker threads of one process,
    hence the lock."""

    def __init__(self, budget: int, size_of: Callable[[V], int]) -> None:
        self.budget, self.size = budget, 0
        self._size_of = size_of
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        size = self._size_of(value)
        with self._lock:
            if key in self._values or size > self.budget:
                return
            self._values[key] = value
            self.size += size
            while self.size > self.budget:
                _, dropped = self._values.popitem(last=False)
                self.size -= self._size_of(dropped)

    def drop(self, unwanted: Callable[[K], bool]) -> None:
        with self._lock:
            for key in [key for key in self._values if unwanted(key)]:
                self.size -= self._size_of(self._values.pop(key))


class DecodedBlocks:
    """Decoded blocks by version and block number. Decoding a page's block was the largest
    part of a page read; a version never changes after its push, so a decoded block never
    goes stale. Filters and sorts keep a few ``columns`` of every block of a version too
    (``number`` None), which is what they read."""

    def __init__(self, budget: int) -> None:
        self._frames: Budgeted[Decoded, pl.DataFrame] = Budgeted(budget, _frame_size)

    @property
    def budget(self) -> int:
        return self._frames.budget

    @property
    def size(self) -> int:
        return self._frames.size

    def get(
        self, version_id: uuid.UUID, number: int | None, columns: tuple[str, ...] | None = None
    ) -> pl.DataFrame | None:
        return self._frames.get((version_id, number, columns))

    def put(
        self,
        version_id: uuid.UUID,
        number: int | None,
        frame: pl.DataFrame,
        columns: tuple[str, ...] | None = None,
    ) -> None:
        self._frames.put((version_id, number, columns), frame)

    def drop(self, version_ids: Collection[uuid.UUID]) -> None:
        self._frames.drop(lambda key: key[0] in version_ids)


def _frame_size(frame: pl.DataFrame) -> int:
    return int(frame.estimated_size())


class BlockSpan(NamedTuple):
    number: int
    first_row: int
    row_count: int
