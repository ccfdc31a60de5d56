"""The composition root: what the service builds once at start-up, from the settings.

The HTTP app (`app.main`), the CLI and the tests all start here, so a use case run by any of
them sees the same themes, clock, storage and listeners. Requests reach each part through a
dependency of its own (``app.core.deps.app_component``), never through this whole object.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.auth.issuers import TokenDecoder, token_decoder
from app.auth.keys import load_signing_key
from app.auth.tokens import TokenCodec
from app.child_lists.parsing.isolated import HANDLER as LIST_READER_HANDLER
from app.child_lists.parsing.isolated import IsolatedListReader
from app.child_lists.parsing.types import Limits
from app.core.clock import Clock
from app.core.config import Settings
from app.core.database import make_engine, make_session_factory
from app.core.sandbox import Sandbox, SandboxLimits
from app.document_requests.service import rederive_on_change
from app.inspections.context import InspectionContexts
from app.storage import Storage, build_storage
from app.themes.registry import BUILTIN_THEMES_DIR, ThemeRegistry, load_themes


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    tokens: TokenCodec
    # Decodes every access token: ours, and trusted issuers' (holding their fetched keys).
    decoder: TokenDecoder
    themes: ThemeRegistry
    storage: Storage
    list_reader: IsolatedListReader
    contexts: InspectionContexts


def build_state(settings: Settings) -> AppState:
    engine = make_engine(settings.resolved_database_url)
    tokens = TokenCodec(
        key=load_signing_key(settings),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl_seconds=settings.token_ttl_seconds,
    )
    themes_from = theme_dirs(settings)
    storage = build_storage(settings)
    storage.ensure_bucket()
    themes = load_themes(themes_from)
    return AppState(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        tokens=tokens,
        decoder=token_decoder(settings, tokens),
        themes=themes,
        storage=storage,
        list_reader=IsolatedListReader(
            _list_sandbox(settings, themes_from),
            # The reader's byte limit is the one the edge enforces, not a second default.
            Limits(max_body_bytes=settings.max_list_bytes),
        ),
        contexts=inspection_contexts(settings, themes),
    )


def theme_dirs(settings: Settings) -> list[Path]:
    extra = [settings.extra_themes_dir] if settings.extra_themes_dir else []
    return [BUILTIN_THEMES_DIR, *extra]


def inspection_contexts(settings: Settings, themes: ThemeRegistry) -> InspectionContexts:
    """How use cases see an inspection here; every change re-derives its document requests."""
    return InspectionContexts(themes, Clock.from_settings(settings), (rederive_on_change,))


def _list_sandbox(settings: Settings, theme_dirs: list[Path]) -> Sandbox:
    limits = SandboxLimits(
        memory_bytes=settings.parse_memory_bytes,
        cpu_seconds=settings.parse_cpu_seconds,
        wall_seconds=settings.parse_wall_seconds,
        wait_seconds=settings.parse_wait_seconds,
        # The cores shared between the workers, not every core for each: two pushes at once
        # on two cores ran four polars threads that spent more time waiting on each other
        # than working (a 100,000-row CSV took 2.0 s instead of 1.4 s on a busy machine).
        threads=max(1, (os.cpu_count() or 1) // settings.parse_workers),
    )
    return Sandbox(
        LIST_READER_HANDLER, [str(d) for d in theme_dirs], settings.parse_workers, limits
    )
