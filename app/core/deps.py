"""Request-scoped dependencies shared by every domain."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.core.state import AppState, app_state, state_of


def _request_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed before the response is sent, or rolled back."""
    factory = state_of(request).session_factory
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(_request_session, scope="function")]
State = Annotated[AppState, Depends(app_state)]
