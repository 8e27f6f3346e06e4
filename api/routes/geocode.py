"""The geocoder over HTTP: one address, a batch, a point, and reviewers' corrections.

The library is loaded into the geocoder's index on first use (one pass over the address and
alias tables) and kept for the life of the process; a correction saved here is stored as an
alias of kind ``correction`` and taught to the loaded index at once.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import Field

from api.auth import needs, require
from api.deps import SyncConnDep, lend_connection
from api.input import ApiModel
from api.routes.addresses import check_address_scope
from geocode.library.writes import add_alias
from geocode.service import (
    DescribeCache,
    Geocoder,
    describe,
    describe_async,
    result_record,
    reverse,
)
from twin.keys import Principal

if TYPE_CHECKING:
    from geocode.match import MatchResult

router = APIRouter(tags=["geocoder"])

#: Addresses in one ``geocode:batch`` request; files go through ``twin geocode FILE``.
MAX_BATCH = 1_000
_LOAD_LOCK = threading.Lock()


def app_geocoder(app: FastAPI, conn: Any) -> Geocoder:
    """Return the application's geocoder, loading the library on first use."""
    geocoder: Geocoder | None = getattr(app.state, "geocoder", None)
    if geocoder is None:
        with _LOAD_LOCK:
            geocoder = getattr(app.state, "geocoder", None)
            if geocoder is None:
                geocoder = Geocoder.from_db(conn)
                app.state.geocoder = geocoder
    return geocoder


def _geocoder(request: Request, conn: Any) -> Geocoder:
    return app_geocoder(request.app, conn)


class BatchIn(ApiModel):
    """Addresses to geocode, answered in the same order."""

    addresses: list[str] = Field(max_length=MAX_BATCH, description=f"Up to {MAX_BATCH:,}")


class CorrectionIn(ApiModel):
    """A reviewer's choice: this text is that address."""

    text: str = Field(min_length=1, max_length=500)
    code: str = Field(min_length=6, max_length=40)


def _load(request: Request) -> Geocoder:
    with request.app.state.sync_pool.connection() as conn:
        return app_geocoder(request.app, conn)


#: The longest address ``GET /api/v1/geocode`` takes.
MAX_QUERY = 10_000


async def geocode_record(app: Any, geocoder: Geocoder, q: str) -> bytes:
    """Return the JSON answer of one address (as ``GET /api/v1/geocode`` gives it).

    The matched code's standard text and location come from the described-codes cache, or
    else from the database (and are cached).
    """
    result = geocoder.geocode(q)  # a fraction of a millisecond: no thread hop needed
    described = await _describe(app, result)
    return orjson.dumps(result_record(result, described))


async def _describe(app: Any, result: MatchResult) -> dict[str, Any]:
    cache: DescribeCache = app.state.described
    codes = [result.code]
    found = cache.lookup(codes)
    if found is None:
        generation = cache.generation
        async with lend_connection(app) as conn:
            found = await describe_async(conn, codes, siblings=cache.siblings)
        cache.store(generation, codes, found)
    return {code: found[code] for code in codes if code in found}


@router.get("/api/v1/geocode", dependencies=[needs("geocode")])
async def geocode_one(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY, description="The address, as written")],
) -> Response:
    """Geocode one address.

    The answer: code, level, standard address, location, confidence, band, elements,
    explanation and the top candidates.
    """
    geocoder: Geocoder | None = getattr(request.app.state, "geocoder", None)
    if geocoder is None:  # the first request loads the library, off the event loop
        geocoder = await run_in_threadpool(_load, request)
    body = await geocode_record(request.app, geocoder, q)
    return Response(body, media_type="application/json")


@router.post("/api/v1/geocode:batch", dependencies=[needs("geocode")])
def geocode_batch(request: Request, conn: SyncConnDep, body: BatchIn) -> JSONResponse:
    """Geocode up to 1,000 addresses; one result per address, in order, and band counts."""
    results = _geocoder(request, conn).geocode_many(body.addresses)
    described = describe(conn, [r.code for r in results])
    records = [result_record(r, described) for r in results]
    for rec in records:
        rec.pop("candidates", None)
    counts = Counter(r["band"] for r in records)
    return JSONResponse({"results": records, "counts": dict(sorted(counts.items()))})


@router.get("/api/v1/reverse", dependencies=[needs("geocode")])
def reverse_geocode(
    conn: SyncConnDep,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    radius_m: Annotated[float, Query(gt=0, le=1_000)] = 50.0,
) -> JSONResponse:
    """Return the building a WGS84 point falls in, or the nearest door within ``radius_m``.

    With its code, standard address and block path (district, street, community, grid).
    """
    return JSONResponse(reverse(conn, lon, lat, radius_m))


@router.post("/api/v1/geocode/corrections", status_code=201)
def correct(
    request: Request,
    conn: SyncConnDep,
    body: CorrectionIn,
    principal: Annotated[Principal, Depends(require("edit_addresses"))],
) -> JSONResponse:
    """Save a reviewer's correction as an alias of the chosen code.

    Who and when are kept; the same text then matches that code exactly.
    """
    check_address_scope(conn, principal, body.code)
    created = add_alias(conn, body.code, body.text, actor=principal.actor, kind="correction",
                        source="geocoder review")  # fmt: skip
    conn.commit()
    _geocoder(request, conn).add_alias(body.code, body.text)
    return JSONResponse({"code": body.code, "text": body.text, "created": created},
                        status_code=201 if created else 200)  # fmt: skip
