"""A page of a list's rows: in file order, or filtered and sorted.

A filtered or sorted page is chosen on the few columns the filter and the sort read (and the
row numbers that break ties), decoded from every block of every version; whole rows are then
decoded only from the blocks the page's rows are in. Decoding every column of every block to
keep a hundred rows, a query per supplier, was most of such a read's time. Those columns are
kept decoded for the next read (within a share of DECODED), and the bytes of every block not
kept are fetched in one query for all the versions.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.child_lists import blocks
from app.child_lists.blocks import CHILD, DECODED, ROW, SOURCE, EncodedRow, StoredRow
from app.child_lists.kept import Decoded
from app.child_lists.models import ListBlock, ListVersion

# Where a row of a filtered or sorted read lies: its block, and its place in that block.
BLOCK, AT = "__block", "__at"
PLACE = "__place"  # a row's place on the page
# What one read may add to DECODED: the columns a filter reads and the blocks of its page are
# kept for the next read, but a read of a long list must not push out every page others read.
SHARE = DECODED.budget // 4

Block = tuple[uuid.UUID, int]  # a version's id and the block's number


@dataclass(frozen=True)
class RowSelection:
    """Which rows a page shows, as polars expressions over a version's columns."""

    conditions: Sequence[pl.Expr] = ()
    sort: pl.Expr | None = None
    descending: bool = False


@dataclass
class _Read:
    """What one filtered read has fetched, and how much of what it decoded it has kept."""

    session: Session
    data: dict[Block, bytes] = field(default_factory=dict)
    kept: int = 0

    def fetch(self, versions: Collection[uuid.UUID], wanted: Collection[Block] = ()) -> None:
        """In one query, the bytes of every block of ``versions`` and of the ``wanted`` ones."""
        numbers: dict[uuid.UUID, list[int]] = {}
        for version_id, number in wanted:
            if version_id not in versions and (version_id, number) not in self.data:
                numbers.setdefault(version_id, []).append(number)
        if not versions and not numbers:
            return
        query = select(ListBlock.version_id, ListBlock.number, ListBlock.data).where(
            or_(
                ListBlock.version_id.in_(versions),
                *(
                    and_(ListBlock.version_id == version_id, ListBlock.number.in_(found))
                    for version_id, found in numbers.items()
                ),
            )
        )
        for version_id, number, data in self.session.execute(query):
            self.data[version_id, number] = data

    def keep(self, key: Decoded, frame: pl.DataFrame) -> None:
        size = int(frame.estimated_size())
        if self.kept + size <= SHARE:
            self.kept += size
            version_id, number, columns = key
            DECODED.put(version_id, number, frame, columns)


def page_of_rows(
    session: Session,
    versions: Sequence[ListVersion],
    selection: RowSelection,
    limit: int,
    offset: int,
) -> tuple[list[EncodedRow], int]:
    """A page of the versions' rows (one after the other, in the order given) and how many
    match. In file order only the blocks the page covers are read; a filter or a sort reads
    its columns of every block of the versions, and ties keep file order."""
    if not selection.conditions and selection.sort is None:
        # Versions are immutable: the counts stored with them need no recounting.
        return blocks.plain_page(session, versions, limit, offset), sum(
            v.row_count for v in versions
        )
    listed = [version for version in versions if version.row_count]
    if not listed:
        return [], 0
    read = _Read(session)
    frame = _narrow(read, listed, _read_columns(selection))
    if selection.conditions:
        frame = frame.filter(*selection.conditions)
    if selection.sort is not None:
        # As SQL orders: missing values last going up, first going down; file order breaks ties.
        frame = frame.sort(
            [selection.sort, pl.col(SOURCE), pl.col(ROW)],
            descending=[selection.descending, False, False],
            nulls_last=not selection.descending,
        )
    page = _whole_rows(read, listed, frame.slice(offset, limit))
    return [blocks.encoded(row) for row in page], frame.height


def _read_columns(selection: RowSelection) -> list[str]:
    """The columns the filter and the sort read, and the row numbers that break ties."""
    expressions = [*selection.conditions, *([selection.sort] if selection.sort is not None else [])]
    names = {name for expression in expressions for name in expression.meta.root_names()}
    return [ROW, *sorted(names - {ROW})]


def _narrow(read: _Read, versions: Sequence[ListVersion], names: list[str]) -> pl.DataFrame:
    """The named columns of every row of the versions, each row with its version's index
    (``SOURCE``), its block and its place in it; a column no version has is all missing."""
    wanted = {
        version.id: tuple(n for n in names if n in (ROW, CHILD) or n in version.columns)
        for version in versions
    }
    kept = {v: DECODED.get(v, None, columns) for v, columns in wanted.items()}
    read.fetch([v for v, frame in kept.items() if frame is None])
    frames = []
    for index, version in enumerate(versions):
        frame = kept[version.id]
        if frame is None:
            frame = _decoded_columns(read, version.id, wanted[version.id])
            read.keep((version.id, None, wanted[version.id]), frame)
        frames.append(frame.with_columns(pl.lit(index, dtype=pl.Int32).alias(SOURCE)))
    frame = pl.concat(frames, how="diagonal_relaxed")
    absent = [name for name in names if name not in frame.columns]
    return frame.with_columns(pl.lit(None).alias(name) for name in absent) if absent else frame


def _decoded_columns(read: _Read, version_id: uuid.UUID, columns: tuple[str, ...]) -> pl.DataFrame:
    """The columns of every block of the version, fetched, with each row's block and place."""
    numbers = sorted(number for v, number in read.data if v == version_id)
    frames = [
        blocks.shown(blocks.decode(read.data[version_id, number], list(columns))).with_columns(
            pl.lit(number, dtype=pl.Int32).alias(BLOCK),
            pl.int_range(pl.len(), dtype=pl.Int32).alias(AT),
        )
        for number in numbers
    ]
    return pl.concat(frames, how="diagonal_relaxed")


def _whole_rows(
    read: _Read, versions: Sequence[ListVersion], page: pl.DataFrame
) -> list[StoredRow]:
    """The page's rows whole, in the page's order, from the blocks they are in."""
    spots = page.select(SOURCE, BLOCK, AT).rows()
    if not spots:
        return []
    places: dict[tuple[int, int], list[int]] = {}
    for place, (source, number, _) in enumerate(spots):
        places.setdefault((source, number), []).append(place)
    wholes = {key: DECODED.get(versions[key[0]].id, key[1]) for key in places}
    read.fetch((), [(versions[s].id, n) for (s, n), whole in wholes.items() if whole is None])
    taken = []
    for (source, number), at in places.items():
        version, whole = versions[source], wholes[source, number]
        if whole is None:
            whole = blocks.shown(blocks.decode(read.data[version.id, number]))
            read.keep((version.id, number, None), whole)
        taken.append(
            whole[[spots[place][2] for place in at]].with_columns(
                pl.Series(PLACE, at, dtype=pl.Int32), pl.lit(source, dtype=pl.Int32).alias(SOURCE)
            )
        )
    # The page as one frame, turned into dicts in one step: per version, it cost a few times
    # more in polars' fixed overhead than the conversion itself.
    frame = pl.concat(taken, how="diagonal_relaxed").sort(PLACE)
    rows = []
    for record in blocks.shown(frame).to_dicts():
        version = versions[record[SOURCE]]
        cells = {column: record.get(column) for column in version.columns}
        rows.append(StoredRow(version.id, record[ROW], record[CHILD], cells))
    return rows
