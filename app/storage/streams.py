"""Bytes on their way to a store: metered and hashed as they pass, cut into parts without
copying, and read back as a file by an HTTP client. Shared by both adapters.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import sys
from collections.abc import Iterable, Iterator, Sequence

from app.storage.base import Chunk, ObjectTooLarge, check_max_bytes


class Meter:
    """Counts and SHA-256-hashes bytes as they pass, enforcing a size limit mid-stream."""

    def __init__(self, max_bytes: int) -> None:
        check_max_bytes(max_bytes)
        self.max_bytes = max_bytes
        self.size = 0
        self._sha256 = hashlib.sha256()

    def feed(self, chunks: Iterable[Chunk]) -> Iterator[Chunk]:
        for chunk in chunks:
            if not chunk:
                continue
            self.size += len(chunk)
            # Checked before the chunk goes anywhere, so an oversize stream stops right here.
            if self.size > self.max_bytes:
                raise ObjectTooLarge(self.max_bytes)
            self._sha256.update(chunk)
            yield chunk

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()

    def digest(self) -> bytes:
        return self._sha256.digest()


def split_into_parts(chunks: Iterable[Chunk], size: int) -> Iterator[list[Chunk]]:
    """Group chunks into parts of exactly ``size`` bytes, the last one possibly shorter.

    A part is the list of its pieces, never joined: a chunk that straddles a part's end is cut
    with a memoryview, so no byte is copied here (joining cost one copy of every byte, and
    handing bytes to botocore two more, as it re-reads them from a BytesIO to checksum and send).
    """
    pieces: list[Chunk] = []
    held = 0
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            wanted = size - held
            if len(view) < wanted:
                pieces.append(view)
                held += len(view)
                break
            pieces.append(view[:wanted])
            view = view[wanted:]
            yield pieces
            pieces, held = [], 0
    if pieces:
        yield pieces


class PiecesReader:
    """A read-only, seekable file over a part's pieces, for an HTTP client to send as a body.

    Reads are full, as from a buffered file (fewer bytes only at the end): botocore's
    aws-chunked encoder, which it uses over HTTPS, makes one chunk of each read, and S3 refuses
    chunks under 8 KiB but the last. A read inside one piece is a view of it, not a copy; only
    a read across two pieces is joined. ``seek`` rewinds for a retried request.
    """

    def __init__(self, pieces: Sequence[Chunk]) -> None:
        self._pieces = [memoryview(piece) for piece in pieces]
        self._starts = list(itertools.accumulate((len(p) for p in self._pieces), initial=0))
        self._size = self._starts[-1]
        self._position = 0

    def __len__(self) -> int:
        """The whole body's size (what an HTTP client sends as Content-Length)."""
        return self._size

    def tell(self) -> int:
        return self._position

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence not in (0, 1, 2):
            raise ValueError(f"invalid whence: {whence}")
        target = (0, self._position, self._size)[whence] + offset
        if target < 0:
            raise ValueError("negative seek position")
        self._position = min(target, self._size)
        return self._position

    def read(self, size: int | None = -1) -> Chunk:
        left = self._size - self._position
        wanted = left if size is None or size < 0 else min(size, left)
        views = list(self._views(wanted))
        self._position += wanted
        if not views:
            return b""
        return views[0] if len(views) == 1 else b"".join(views)

    def _views(self, count: int) -> Iterator[memoryview]:
        """Views of the next ``count`` bytes, one per piece they lie in."""
        index = bisect.bisect_right(self._starts, self._position) - 1
        offset = self._position - self._starts[index]
        while count > 0:
            view = self._pieces[index][offset : offset + count]
            if view:
                yield view
                count -= len(view)
            index, offset = index + 1, 0


def hash_stream(chunks: Iterable[Chunk]) -> tuple[int, str]:
    """(size, SHA-256 hex digest) of a stream read to its end, with no size limit."""
    meter = Meter(sys.maxsize)
    for _ in meter.feed(chunks):
        pass
    return meter.size, meter.hexdigest()
