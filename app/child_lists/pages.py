"""A page of a list's rows: in file order, or filtered and sorted.

A filtered or sorted page is chosen on the few columns the filter and the sort read (and the
row numbers that break ties), decoded from every block of every version; whole rows are then
decoded only from the blocks the page's rows are in. Decoding every column of every block to
keep a hundred rows was most of such a read's time. The blocks of all the versions read are
found in one query, and the bytes of those not already decoded in one more.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from app.child_lists import blocks
from app.child_lists.blocks import CHILD, DECODED, ROW, SOURCE, StoredRow
from app.child_lists.models import ListBlock, ListVersion

# Where a row of a filtered or sorted read lies: its block, and its place in that block.
BLOCK, AT = "__block", "__at"
# What one read may add to DECODED: the columns a filter reads and the blocks of its page are
# kept for the next read of the list, but a read of a long list must not push out every page
# other readers are reading.
SHARE = DECODED.budget // 8

_BLOCKS_OF = (
    select(ListBlock.version_id, ListBlock.number)
    .where(ListBlock.version_id.in_(bindparam("version_ids", expanding=True)))
    .order_by(ListBlock.version_id, ListBlock.number)
)

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

    def fetch(self, wanted: Iterable[Block]) -> None:
        """The bytes of the blocks not fetched yet, in one query."""
        by_version: dict[uuid.UUID, list[int]] = {}
        for version_id, number in wanted:
            if (version_id, number) not in self.data:
                by_version.setdefault(version_id, []).append(number)
        if not by_version:
            return
        query = select(ListBlock.version_id, ListBlock.number, ListBlock.data).where(
            or_(
                *(
                    and_(ListBlock.version_id == version_id, ListBlock.number.in_(numbers))
                    for version_id, numbers in by_version.items()
                )
            )
        )
        for version_id, number, data in self.session.execute(query):
            self.data[version_id, number] = data

    def keep(self, block: Block, frame: pl.DataFrame, column: str | None = None) -> None:
        size = int(frame.estimated_size())
        if self.kept + size <= SHARE:
            self.kept += size
            DECODED.put(*block, frame, column)


def page_of_rows(
    session: Session,
    versions: Sequence[ListVersion],
    selection: RowSelection,
    limit: int,
    offset: int,
) -> tuple[list[StoredRow], int]:
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
    return _whole_rows(read, listed, frame.slice(offset, limit)), frame.height


def _read_columns(selection: RowSelection) -> list[str]:
    """The columns the filter and the sort read, and the row numbers that break ties."""
    expressions = [*selection.conditions, *([selection.sort] if selection.sort is not None else [])]
    names = {name for expression in expressions for name in expression.meta.root_names()}
    return [ROW, *sorted(names - {ROW})]


def _narrow(read: _Read, versions: Sequence[ListVersion], names: list[str]) -> pl.DataFrame:
    """The named columns of every block of the versions, each row with its version's index
    (``SOURCE``), its block and its place in it; a column no version has is all missing."""
    index = {version.id: position for position, version in enumerate(versions)}
    found = sorted(
        read.session.execute(_BLOCKS_OF, {"version_ids": list(index)}),
        key=lambda block: (index[block.version_id], block.number),
    )
    columns = {
        version.id: [name for name in names if name in (ROW, CHILD) or name in version.columns]
        for version in versions
    }
    cached = {(v, n): _cached_columns((v, n), columns[v]) for v, n in found}
    read.fetch(block for block, parts in cached.items() if any(p is None for p in parts.values()))
    frames = []
    for version_id, number in found:
        parts = _decoded_columns(read, (version_id, number), cached[version_id, number])
        frames.append(
            pl.concat(list(parts.values()), how="horizontal").with_columns(
                pl.lit(index[version_id], dtype=pl.Int32).alias(SOURCE),
                pl.lit(number, dtype=pl.Int32).alias(BLOCK),
                pl.int_range(pl.len(), dtype=pl.Int32).alias(AT),
            )
        )
    frame = pl.concat(frames, how="diagonal_relaxed")
    absent = [name for name in names if name not in frame.columns]
    return frame.with_columns(pl.lit(None).alias(name) for name in absent) if absent else frame


def _cached_columns(block: Block, names: Collection[str]) -> dict[str, pl.DataFrame | None]:
    """The block's columns as kept decoded, alone or in the whole block; None where neither."""
    whole = DECODED.get(*block)
    if whole is not None:
        return {name: whole.select(name) for name in names}
    return {name: DECODED.get(*block, name) for name in names}


def _decoded_columns(
    read: _Read, block: Block, parts: dict[str, pl.DataFrame | None]
) -> dict[str, pl.DataFrame]:
    """The block's columns, decoding (and keeping, within the read's share) those not kept."""
    absent = [name for name, part in parts.items() if part is None]
    decoded = blocks.shown(blocks.decode(read.data[block], absent)) if absent else None
    found: dict[str, pl.DataFrame] = {}
    for name, part in parts.items():
        if part is None and decoded is not None:
            part = decoded.select(name)
            read.keep(block, part, name)
        if part is not None:
            found[name] = part
    return found


def _whole_rows(
    read: _Read, versions: Sequence[ListVersion], page: pl.DataFrame
) -> list[StoredRow]:
    """The page's rows whole, in the page's order, from the blocks they are in."""
    places: dict[tuple[int, int], list[int]] = {}
    spots = page.select(SOURCE, BLOCK, AT).rows()
    for place, (source, number, _) in enumerate(spots):
        places.setdefault((source, number), []).append(place)
    wholes = {key: DECODED.get(versions[key[0]].id, key[1]) for key in places}
    read.fetch((versions[s].id, n) for (s, n), whole in wholes.items() if whole is None)
    rows: list[StoredRow | None] = [None] * len(spots)
    for (source, number), at in places.items():
        version, whole = versions[source], wholes[source, number]
        if whole is None:
            whole = blocks.shown(blocks.decode(read.data[version.id, number]))
            read.keep((version.id, number), whole)
        taken = whole[[spots[place][2] for place in at]]
        for place, row in zip(at, blocks.stored(version, taken), strict=True):
            rows[place] = row
    return [row for row in rows if row is not None]
