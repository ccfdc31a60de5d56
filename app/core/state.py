"""What the app builds once at start-up and hands to requests through ``app.state``."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from app.auth.tokens import TokenCodec
from app.core.config import Settings, StorageKind
from app.themes.registry import ThemeRegistry


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    tokens: TokenCodec
    themes: ThemeRegistry

    def storage_ready(self) -> bool:
        if self.settings.storage is StorageKind.LOCAL:
            directory = self.settings.resolved_storage_dir
            return directory.is_dir() and os.access(directory, os.W_OK)
        return False


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.jtai
    return state
