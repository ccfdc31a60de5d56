"""One paging contract: ``limit`` (hard maximum) and ``offset``, answered with a next link."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
# Beyond any real list (500,000 rows at most) and inside every database's integer type.
MAX_OFFSET = 10_000_000

T = TypeVar("T")


class PageParams(BaseModel):
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


async def page_params(  # async: no I/O, so no worker-thread hop
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = (
        DEFAULT_PAGE_SIZE
    ),
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


class Page(BaseModel, Generic[T]):
    items: list[T]
    limit: int
    offset: int
    total: int
    next_offset: int | None = Field(description="Offset of the next page, or null at the end")

    @classmethod
    def build(cls, items: list[T], params: PageParams, total: int) -> Page[T]:
        following = params.offset + len(items)
        return cls(
            items=items,
            limit=params.limit,
            offset=params.offset,
            total=total,
            next_offset=following if following < total else None,
        )
