"""What the app builds once at start-up and hands to requests through ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from app.auth.tokens import TokenCodec
from app.child_lists.parsing.isolated import IsolatedListReader
from app.core.config import Settings
from app.inspections.context import InspectionContexts
from app.storage import Storage
from app.themes.registry import ThemeRegistry


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    tokens: TokenCodec
    themes: ThemeRegistry
    storage: Storage
    list_reader: IsolatedListReader
    contexts: InspectionContexts


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.jtai
    return state


async def app_state(request: Request) -> AppState:
    """The dependency; async because a sync one would be sent to a worker thread for nothing."""
    return state_of(request)
