"""The read benchmark's peer: a plain FastAPI + SQLAlchemy endpoint, no token, no audit."""

from __future__ import annotations

import os
import uuid
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from app.child_lists.models import ListRow
from app.core.database import make_engine, make_session_factory

engine = make_engine(os.environ["BENCH_DATABASE_URL"])
sessions = make_session_factory(engine)
VERSION = uuid.UUID(os.environ["BENCH_VERSION_ID"])
app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/rows")
def rows(limit: int = 100, offset: int = 0) -> dict[str, Any]:
    with sessions() as session:
        found = session.execute(
            select(ListRow)
            .where(ListRow.version_id == VERSION)
            .order_by(ListRow.row_number)
            .limit(limit)
            .offset(offset)
        ).scalars()
        items = [
            {"row_number": r.row_number, "child_id": r.child_id, "cells": r.cells} for r in found
        ]
    return {"items": items}
