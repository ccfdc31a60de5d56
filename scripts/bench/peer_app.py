"""The read benchmark's peer: a plain FastAPI + SQLAlchemy endpoint, no token, no audit.

It pages through the same rows in the same PostgreSQL, held the plainest way: a table with a
column per heading and a serial key (the benchmark's COPY baseline table), read 100 at a time.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from sqlalchemy import MetaData, Table, select

from app.core.database import make_engine

engine = make_engine(os.environ["BENCH_DATABASE_URL"])
rows_table = Table("bench_copy", MetaData(), autoload_with=engine)
# Plain str keys, as a model's fields would give: reflected column names are SQLAlchemy's
# quoted_name, a str subclass that pydantic serialises through a slow path, 13 ms for a page
# of 100 rows, which made this peer several times slower than plain CRUD is.
KEYS = [str(column.name) for column in rows_table.columns]
app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/rows")
def rows(limit: int = 100, offset: int = 0) -> dict[str, Any]:
    query = select(rows_table).order_by(rows_table.c.id).limit(limit).offset(offset)
    with engine.connect() as connection:
        items = [dict(zip(KEYS, row, strict=True)) for row in connection.execute(query)]
    return {"items": items}
