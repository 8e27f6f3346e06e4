"""The viewer's application and the read-only routes it needs.

``GET /`` sends the browser to the viewer (``/viewer/app/index.html``, built from ``web/``),
keeping the query string (``api_key``, ``lang``). The routes under ``/api/v1`` give the map its
boundaries (``units``), the blocks panel its breadcrumb (``blocks/{code}/path``), the inspector a
building's card, its rooms floor by floor and, for roles allowed individual records, the
records placed in it (masked), and the search box its candidates.

Counts follow the vector tiles' privacy rule: below ``TWIN_TILES_PRIVACY_THRESHOLD`` (5) they
are withheld, except for principals with the ``records`` permission whose scope covers the
block (they may see the records themselves).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse

import shapely

from api.auth import require
from api.deps import SyncConnDep
from api.routes.geocode import app_geocoder
from blocks import summary
from models3d.interior import volumes
from models3d.source import interior_from_db
from twin.keys import PERMISSIONS, Principal

router = APIRouter(tags=["viewer"])

#: Where ``GET /`` sends the browser.
APP_PAGE = "/viewer/app/index.html"
#: Candidates the search box lists.
MAX_CANDIDATES = 8
ReadDep = Annotated[Principal, Depends(require("read"))]
RecordsDep = Annotated[Principal, Depends(require("records"))]


def _k(request: Request, principal: Principal, code: str | None) -> int:
    """Return the privacy threshold for this principal and block: 0 when it may see records."""
    if principal.can("records") and principal.covers(code):
        return 0
    threshold: int = request.app.state.privacy_threshold
    return threshold


@router.get("/", include_in_schema=False)
def root(request: Request) -> RedirectResponse:
    """Send the browser to the viewer, keeping the query string."""
    query = request.url.query
    return RedirectResponse(APP_PAGE + (f"?{query}" if query else ""), status_code=307)


@router.get("/api/v1/viewer/me")
def me(principal: ReadDep) -> JSONResponse:
    """Return who calls: the key's name, role, scope and its role's permissions.

    The viewer shows what the role may see (individual records only where ``records`` is
    among the permissions) instead of asking and being refused.
    """
    allowed = sorted(p for p in PERMISSIONS if principal.can(p))
    return JSONResponse({"name": principal.name, "role": principal.role,
                         "scope": principal.scope_code, "permissions": allowed})  # fmt: skip


@router.get("/api/v1/units")
def units(
    request: Request,
    conn: SyncConnDep,
    principal: ReadDep,
    level: Annotated[str, Query(description="district, street, community or grid")],
    parent: Annotated[str | None, Query(max_length=25, description="Only units under it")] = None,
) -> JSONResponse:
    """Return the administrative units of a level as GeoJSON, with names, counts and buildings."""
    k = _k(request, principal, parent)
    return JSONResponse(summary.units_geojson(conn, level, parent, k))


@router.get("/api/v1/blocks/{code}/path")
def block(request: Request, conn: SyncConnDep, principal: ReadDep, code: str) -> JSONResponse:
    """Return the block path of a code (district → … → building) with each level's numbers."""
    return JSONResponse({"path": summary.block_path(conn, code, _k(request, principal, code))})


@router.get("/api/v1/buildings/{code}")
def building(request: Request, conn: SyncConnDep, principal: ReadDep, code: str) -> JSONResponse:
    """Return a building's codes, address and aliases, floors and counts, and its block path."""
    k = _k(request, principal, code)
    card = summary.building_card(conn, code, k)
    card["path"] = summary.block_path(conn, code, k)
    return JSONResponse(card)


@router.get("/api/v1/buildings/{code}/rooms")
def rooms(request: Request, conn: SyncConnDep, principal: ReadDep, code: str) -> JSONResponse:
    """Return a building's rooms (whole floors where it has none) as GeoJSON volumes.

    Each feature: ``floor_no``, ``room_code``, ``room_no``, ``unit_no``, ``use``, ``bottom_m``,
    ``top_m`` (above the building's base) and the room's counts (for occupancy).
    """
    summary.check_building(conn, code)
    counts = summary.room_counts(conn, code, _k(request, principal, code))
    empty = {"people": None, "companies": None, "events": None}
    features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(shapely.set_precision(v.polygon, 1e-7)),
            "properties": {
                "floor_no": v.floor_no,
                "room_code": v.room_code,
                "room_no": v.room_no,
                "unit_no": v.unit_no,
                "use": v.use,
                "bottom_m": round(v.bottom_m, 2),
                "top_m": round(v.top_m, 2),
                **counts.get(v.room_code, empty),
            },
        }
        for v in volumes(interior_from_db(conn, code))
    ]
    return JSONResponse({"type": "FeatureCollection", "building": code, "features": features})


@router.get("/api/v1/buildings/{code}/records")
def records(
    conn: SyncConnDep,
    principal: RecordsDep,
    code: str,
    kind: Annotated[str | None, Query(description="person, legal_entity or event")] = None,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
) -> JSONResponse:
    """Return the people, companies and events placed in a building, personal fields masked."""
    principal.check_scope(summary.check_building(conn, code))
    return JSONResponse({"records": summary.building_records(conn, code, kind, limit)})


@router.get("/api/v1/viewer/search")
def search(
    request: Request,
    conn: SyncConnDep,
    _principal: ReadDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="A place or address")],
) -> JSONResponse:
    """Return the standard addresses and units a text may name, best first, with locations.

    The geocoder's result and candidates, each with its level, confidence, standard text,
    location and building (when it lies in one). Only the standard address library is
    searched and returned, as ``GET /api/v1/addresses`` does for the ``read`` permission.
    """
    return JSONResponse({"query": q, "results": _candidates(request, conn, q)})


def _candidates(request: Request, conn: Any, q: str) -> list[dict[str, Any]]:
    result = app_geocoder(request.app, conn).geocode(q)
    ranked: dict[str, tuple[str, float]] = {}
    if result.code and result.level:
        ranked[result.code] = (result.level, result.confidence)
    for c in result.candidates:
        ranked.setdefault(c.code, (c.level, c.score))
    codes = list(ranked)[:MAX_CANDIDATES]
    found = summary.places(conn, codes)
    return [
        {
            "code": code,
            "level": ranked[code][0],
            "confidence": round(ranked[code][1], 3),
            **found[code],
        }
        for code in codes
        if code in found
    ]
