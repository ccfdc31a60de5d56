"""A list version's rows, stored as column-wise blocks (Arrow IPC, LZ4) and read back: pages,
a few children's rows, whole versions. No HTTP and no parsing here."""

from __future__ import annotations

import io
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import polars as pl
from pydantic_core import to_json
from sqlalchemy import ColumnElement, Select, Uuid, bindparam, insert, or_, select
from sqlalchemy.orm import Session

from app.child_lists.kept import BlockSpan, Budgeted, DecodedBlocks
from app.child_lists.models import ListBlock, ListVersion

# ROW and CHILD are the stored blocks' own columns, which readers of blocks name.
from app.child_lists.parsing.encoded import CHILD as CHILD
from app.child_lists.parsing.encoded import ROW as ROW
from app.child_lists.parsing.encoded import encode_blocks
from app.child_lists.parsing.types import EncodedBlock
from app.core.database import position_in


class StoredRow(NamedTuple):
    """A row as read back: its cells keyed by field again. (A tuple: a page makes a hundred,
    and a frozen dataclass costs several times as much to build.)"""

    version_id: uuid.UUID
    row_number: int
    child_id: str
    data: dict[str, Any]


class EncodedRow(NamedTuple):
    """A row as a page sends it, written as JSON once: ``head`` is the opening of the row's
    object up to its child ID (``{"row_number":1,"child_id":"..."``), ``cells`` its data
    object. Versions never change, so neither do these; a page joins them."""

    version_id: uuid.UUID
    row_number: int
    child_id: str
    head: bytes
    cells: bytes


def encoded(row: StoredRow) -> EncodedRow:
    head = b'{"row_number":%d,"child_id":%s' % (row.row_number, to_json(row.child_id))
    # NaN and infinities as null, as the row's model writes them: bare NaN is not JSON.
    cells = to_json(row.data, inf_nan_mode="null")
    return EncodedRow(row.version_id, row.row_number, row.child_id, head, cells)


# Which of several versions read together a row comes from (never stored).
SOURCE = "__source"
# Blocks sent to the database in one statement while a push streams in: enough to make each
# round trip worth it, few enough that a push holds a few MB, not the list.
INSERT_BATCH = 16


def insert_frame(
    session: Session,
    version: ListVersion,
    frame: pl.DataFrame,
    row_numbers: Sequence[int],
    child_id_field: str,
) -> None:
    """Store a validated list as blocks of ``BLOCK_ROWS`` rows, encoded column-wise by polars."""
    if frame.height == 0:
        return
    if list(frame.columns) != list(version.columns):
        raise ValueError("the frame's columns are not the version's")
    insert_blocks(session, version, encode_blocks(frame, row_numbers, child_id_field))


def insert_blocks(session: Session, version: ListVersion, blocks: Iterable[EncodedBlock]) -> int:
    """Store encoded blocks as they come, ``INSERT_BATCH`` at a time; how many rows they held."""
    batch: list[dict[str, Any]] = []
    rows = 0
    for block in blocks:
        batch.append(
            {
                "version_id": version.id,
                "number": block.number,
                "first_row": block.first_row,
                "row_count": block.row_count,
                "child_ids": block.child_ids,
                "data": block.data,
            }
        )
        rows += block.row_count
        if len(batch) == INSERT_BATCH:
            session.execute(insert(ListBlock), batch)
            batch = []
    if batch:
        session.execute(insert(ListBlock), batch)
    return rows


def _names_child(child_id: str) -> ColumnElement[bool]:
    """True for blocks whose ``child_ids`` has this exact line (child IDs hold no line breaks)."""
    return position_in(ListBlock.child_ids, f"\n{child_id}\n") > 0


def versions_naming_child(inspection_id: uuid.UUID, child_id: str) -> Select[tuple[uuid.UUID]]:
    """The ids of the inspection's list versions with a row for the child (for subqueries)."""
    return (
        select(ListBlock.version_id)
        .join(ListVersion, ListVersion.id == ListBlock.version_id)
        .where(ListVersion.inspection_id == inspection_id, _names_child(child_id))
    )


def decode(data: bytes, columns: list[str] | None = None) -> pl.DataFrame:
    """A stored block, or only the named columns of it (the others are not decompressed)."""
    return pl.read_ipc(io.BytesIO(data), columns=columns)


def _frame_of(blobs: Iterable[bytes]) -> pl.DataFrame:
    return _joined([decode(blob) for blob in blobs])


def _joined(frames: list[pl.DataFrame]) -> pl.DataFrame:
    if len(frames) == 1:
        return frames[0]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def _encoded_size(rows: tuple[EncodedRow, ...]) -> int:
    # The JSON, and about what Python takes for a row's tuple, numbers and texts beside it.
    return sum(len(row.head) + len(row.cells) + 256 for row in rows)


def _one(_layout: tuple[BlockSpan, ...]) -> int:
    return 1


DECODED = DecodedBlocks(budget=32 * 1024 * 1024)
# The rows of the blocks plain pages were read from, written as JSON: a page read joins them.
ENCODED: Budgeted[tuple[uuid.UUID, int], tuple[EncodedRow, ...]] = Budgeted(
    32 * 1024 * 1024, _encoded_size
)


def shown(frame: pl.DataFrame) -> pl.DataFrame:
    """Dates as the ISO text JSON gives them (which sorts and compares as the dates do)."""
    if not any(dtype in (pl.Date, pl.Datetime) for dtype in frame.dtypes):
        return frame  # already shown (a kept block): casting nothing still costs a pass
    return frame.with_columns(pl.col(pl.Date, pl.Datetime).cast(pl.String))


def stored(version: ListVersion, frame: pl.DataFrame) -> list[StoredRow]:
    """Rows as dicts with values as JSON would give them (dates as ISO text)."""
    if frame.height == 0:
        return []
    texts = shown(frame)
    data = texts.select([c for c in version.columns if c in texts.columns]).to_dicts()
    numbers, children = frame[ROW].to_list(), frame[CHILD].to_list()
    return [
        StoredRow(version.id, number, child, cells)
        for number, child, cells in zip(numbers, children, data, strict=True)
    ]


# Where each block of a version starts, for 4,096 versions (each counted as one): a page read
# asks for no layout once its version has been read.
LAYOUTS: Budgeted[uuid.UUID, tuple[BlockSpan, ...]] = Budgeted(4096, _one)


def forget(version_ids: Collection[uuid.UUID]) -> None:
    """Drop what this process keeps of purged versions. (Nothing kept is ever read without
    its version's row, so a purge elsewhere leaves only memory to age out here.)"""
    ids = frozenset(version_ids)
    LAYOUTS.drop(lambda version_id: version_id in ids)
    DECODED.drop(ids)
    ENCODED.drop(lambda key: key[0] in ids)


# Every page read runs these: built once, with parameters typed (see repository._CONTRIBUTIONS).
_VERSION_ID = bindparam("version_id", type_=Uuid())
_LAYOUT = (
    select(ListBlock.number, ListBlock.first_row, ListBlock.row_count)
    .where(ListBlock.version_id == _VERSION_ID)
    .order_by(ListBlock.number)
)
_BLOCK_DATA = select(ListBlock.number, ListBlock.data).where(
    ListBlock.version_id == _VERSION_ID,
    ListBlock.number.in_(bindparam("numbers", expanding=True)),
)


def _layout(session: Session, version: ListVersion) -> tuple[BlockSpan, ...]:
    layout = LAYOUTS.get(version.id)
    if layout is None:
        found = session.execute(_LAYOUT, {"version_id": version.id})
        layout = tuple(BlockSpan(*row) for row in found)
        # Kept only when whole: a version is read only once its push has committed, but
        # nothing here should trust that a half-written version is never read.
        if sum(span.row_count for span in layout) == version.row_count:
            LAYOUTS.put(version.id, layout)
    return layout


def _spans_covering(
    session: Session, version: ListVersion, start: int, stop: int
) -> list[BlockSpan]:
    """The blocks holding rows ``start`` to ``stop - 1``, in order."""
    return [
        span
        for span in _layout(session, version)
        if span.first_row < stop and span.first_row + span.row_count > start
    ]


def _decoded(session: Session, version: ListVersion, numbers: list[int]) -> dict[int, pl.DataFrame]:
    """The numbered blocks decoded with dates shown as ISO text: those decoded before from
    DECODED, only the others' bytes fetched."""
    frames = {number: DECODED.get(version.id, number) for number in numbers}
    missing = [number for number, frame in frames.items() if frame is None]
    if missing:
        fetched = session.execute(_BLOCK_DATA, {"version_id": version.id, "numbers": missing})
        for number, data in fetched:
            frames[number] = decoded = shown(decode(data))
            DECODED.put(version.id, number, decoded)
    return {number: frame for number, frame in frames.items() if frame is not None}


def _encoded_rows(
    session: Session, version: ListVersion, start: int, stop: int
) -> list[EncodedRow]:
    """Rows ``start`` to ``stop - 1`` of a version, written as JSON: from ENCODED, the blocks
    not there written once and kept."""
    spans = _spans_covering(session, version, start, stop)
    if not spans:
        return []
    kept = {span.number: ENCODED.get((version.id, span.number)) for span in spans}
    missing = [number for number, rows in kept.items() if rows is None]
    for number, frame in _decoded(session, version, missing).items():
        kept[number] = written = tuple(encoded(row) for row in stored(version, frame))
        ENCODED.put((version.id, number), written)
    rows = [row for span in spans for row in kept[span.number] or ()]
    first_row = spans[0].first_row
    return rows[start - first_row : stop - first_row]


def rows_of(
    session: Session,
    versions: Sequence[ListVersion],
    child_ids: Sequence[str] | None = None,
) -> list[StoredRow]:
    """Every row of the versions, or only the named children's (reading only their blocks)."""
    by_id = {version.id: version for version in versions}
    query = select(ListBlock.version_id, ListBlock.data).where(ListBlock.version_id.in_(by_id))
    if child_ids is not None:
        if not child_ids:
            return []
        query = query.where(or_(*(_names_child(child) for child in child_ids)))
    found: dict[uuid.UUID, list[bytes]] = {}
    for version_id, data in session.execute(query.order_by(ListBlock.version_id, ListBlock.number)):
        found.setdefault(version_id, []).append(data)
    rows: list[StoredRow] = []
    for version_id, blobs in found.items():
        frame = _frame_of(blobs)
        if child_ids is not None:
            frame = frame.filter(pl.col(CHILD).is_in(list(child_ids)))
        rows += stored(by_id[version_id], frame)
    return rows


def rows_in_order(session: Session, versions: Sequence[ListVersion]) -> Iterator[StoredRow]:
    """Every row of the versions, one version after the other as given, each in file order
    (exports). Every block's bytes come in one query, before this returns: a download streams
    after the request's session has closed. The blocks stay compressed until their rows are
    taken, one block at a time, and are not kept decoded: a whole export would push the pages
    being read out of DECODED."""
    order = {version.id: index for index, version in enumerate(versions)}
    query = select(ListBlock.version_id, ListBlock.number, ListBlock.data)
    found = sorted(
        session.execute(query.where(ListBlock.version_id.in_(order))),
        key=lambda block: (order[block.version_id], block.number),
    )
    return _rows_decoded([(versions[order[v]], number, data) for v, number, data in found])


def plain_page(
    session: Session, versions: Sequence[ListVersion], limit: int, offset: int
) -> list[EncodedRow]:
    """Rows ``offset`` to ``offset + limit - 1`` of the versions one after the other."""
    rows: list[EncodedRow] = []
    start = offset  # within the version at hand
    for version in versions:
        if len(rows) >= limit:
            break
        if start >= version.row_count:
            start -= version.row_count
            continue
        stop = min(version.row_count, start + limit - len(rows))
        rows += _encoded_rows(session, version, start, stop)
        start = 0
    return rows


def _rows_decoded(found: list[tuple[ListVersion, int, bytes]]) -> Iterator[StoredRow]:
    for version, number, data in found:
        frame = DECODED.get(version.id, number)
        yield from stored(version, decode(data) if frame is None else frame)


def child_frames(
    session: Session, versions: Sequence[ListVersion], prefix: str, columns: Collection[str]
) -> Iterator[tuple[ListVersion, pl.DataFrame]]:
    """Each version's rows whose child ID starts with ``prefix`` (every row for ""), as a
    frame of the child ID column and the named ``columns`` it has, one version at a time and
    reading only the blocks that name such a child."""
    naming = position_in(ListBlock.child_ids, f"\n{prefix}") > 0
    for version in versions:
        if not version.row_count:
            continue
        wanted = [CHILD, *(c for c in version.columns if c in columns)]
        query = select(ListBlock.data).where(ListBlock.version_id == version.id)
        if prefix:
            query = query.where(naming)
        blobs = session.execute(query.order_by(ListBlock.number)).scalars()
        frames = [pl.read_ipc(io.BytesIO(blob), columns=wanted) for blob in blobs]
        if not frames:
            continue
        frame = pl.concat(frames, how="diagonal_relaxed")
        yield version, frame.filter(pl.col(CHILD).str.starts_with(prefix)) if prefix else frame
