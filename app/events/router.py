from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import authorize
from app.auth.principal import Principal
from app.core.deps import DbSession
from app.core.errors import error_responses
from app.events import feed
from app.events.outbox import parse_cursor
from app.events.schemas import EventPage

router = APIRouter(prefix="/v1/events", tags=["events"])

MAX_WAIT_SECONDS = 30


@router.get(
    "",
    response_model=EventPage,
    responses=error_responses(401, 403, 422),
    summary="The caller's events, oldest first, from a cursor; optionally long-polled",
)
async def list_events(  # async: a long poll waits without holding a worker thread
    session: DbSession,
    after: Annotated[
        str | None, Query(max_length=64, description="A next_cursor given before; none: start")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many events")] = 100,
    wait: Annotated[
        int,
        Query(ge=0, le=MAX_WAIT_SECONDS, description="Seconds to wait for an event if none yet"),
    ] = 0,
    principal: Principal = authorize("list_events"),
) -> EventPage:
    page = await feed.wait_for_page(
        session, feed.reader_of(principal), parse_cursor(after), limit, wait
    )
    return EventPage.model_validate({"items": page.items, "next_cursor": page.next_cursor})
