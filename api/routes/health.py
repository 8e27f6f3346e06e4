"""``/healthz``: is the database reachable, which PostGIS, which schema version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import PoolDep
from twin import __version__
from twin.db.health import probe

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The service's health."""

    status: str
    version: str
    database: dict[str, Any]


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(pool: PoolDep) -> JSONResponse:
    """Report the database's reachability, PostgreSQL/PostGIS versions and schema version."""
    db = await probe(pool)
    ok = db["reachable"] and db.get("schema_ok", False)
    body = Health(status="ok" if ok else "degraded", version=__version__, database=db)
    return JSONResponse(status_code=200 if ok else 503, content=body.model_dump())
