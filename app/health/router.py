from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine, text

from app.core.deps import app_component
from app.storage.deps import StorageDep

EngineDep = Annotated[Engine, Depends(app_component("engine"))]

router = APIRouter(tags=["health"])
logger = logging.getLogger("jtai.health")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, bool]


@router.get("/healthz", response_model=Health, summary="The process is up")
def read_health() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency is unreachable"}},
    summary="The database and the object store are reachable",
)
def read_readiness(engine: EngineDep, storage: StorageDep) -> JSONResponse:
    checks = {"database": _database_ok(engine), "storage": storage.ready()}
    ready = all(checks.values())
    body = Readiness(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


def _database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        logger.warning("database not reachable", exc_info=True)
        return False
    return True
