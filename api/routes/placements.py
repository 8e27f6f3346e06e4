"""Placement over HTTP: place a batch, review uncertain placements, read a block's counts.

``POST /api/v1/placements:batch`` places up to 1,000 records (files go through a job,
``POST /api/v1/jobs/place``); ``GET /api/v1/review`` lists placements waiting for review and
``POST /api/v1/review/{id}`` confirms or corrects one (a correction teaches the loaded
geocoder at once); ``GET /api/v1/blocks/{code}`` reads a block's counts, its parents and
children. Scoped keys (grid workers) place, see and correct only inside their scope.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from api.auth import needs, require
from api.deps import SyncConnDep
from api.input import ApiModel
from api.routes.geocode import app_geocoder
from blocks.placement.aggregates import block_summary
from blocks.placement.model import RECORD_KINDS
from blocks.placement.review import MAX_PAGE, review, review_queue
from blocks.placement.service import place_rows
from blocks.placement.services import service_analysis
from twin.keys import Principal

router = APIRouter(tags=["placement"])

#: Records in one batch request.
MAX_RECORDS = 1_000
#: The largest placement id (bigint) and queue offset a request may name.
MAX_ID, MAX_OFFSET = 2**63 - 1, 10**9


class PlacementBatch(ApiModel):
    """Records to place, answered in the same order.

    Each record is an object whose keys name its fields as a file's header would: ``id``
    (required), ``code``, ``address``, ``lon``/``lat``, and per kind ``name``, ``id_number``,
    ``phone``, ``residence_kind`` (people); ``name``, ``uscc``, ``industry`` (companies);
    ``event_type``, ``status``, ``occurred_at``, ``description`` (events).
    """

    kind: Literal["person", "company", "event"]
    records: list[dict[str, Any]] = Field(
        min_length=1, max_length=MAX_RECORDS, description=f"Up to {MAX_RECORDS:,} records"
    )
    source: str = Field("api", min_length=1, max_length=100, description="Source of the ids")
    crs: str = Field("EPSG:4326", max_length=50, description="CRS of lon/lat")


class ReviewIn(ApiModel):
    """A reviewer's decision on one placement."""

    action: Literal["confirm", "correct"]
    code: str | None = Field(
        None, max_length=40, description="For a correction: the right address, room or building"
    )


def _table(records: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    header: list[str] = []
    for rec in records:
        header += [k for k in rec if k not in header]
    return header, [[rec.get(k) for k in header] for rec in records]


@router.post("/api/v1/placements:batch")
def place_batch(
    request: Request,
    conn: SyncConnDep,
    body: PlacementBatch,
    principal: Annotated[Principal, Depends(require("place"))],
) -> JSONResponse:
    """Place up to 1,000 records: one result per record, in order, and counts per status.

    Each result: ``row``, ``id``, ``status`` (placed, review, rejected, invalid), ``method``,
    ``confidence``, ``band``, the block path codes, ``floor_no``, ``address_code``,
    ``reason`` and ``problems`` (``field: message``). Re-sending a record (same kind, source
    and id) updates it.
    """
    header, rows = _table(body.records)
    geocoder = app_geocoder(request.app, conn)
    results = place_rows(conn, geocoder.geocode_many, header, rows, kind=body.kind,
                         source=body.source, actor=principal.actor, crs=body.crs,
                         scope=principal)  # fmt: skip
    conn.commit()
    counts = Counter(r.status for r in results)
    return JSONResponse({"results": [r.as_dict() for r in results],
                         "counts": dict(sorted(counts.items()))})  # fmt: skip


@router.get("/api/v1/review")
def list_review(
    conn: SyncConnDep,
    principal: Annotated[Principal, Depends(require("records"))],
    community: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    grid: Annotated[str | None, Query(pattern=r"^[0-9]{14}$")] = None,
    kind: Annotated[Literal["person", "company", "event"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Placements per page")] = 100,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="Placements to skip (page × limit)")
    ] = 0,
) -> JSONResponse:
    """List placements waiting for review (bands review and reject), oldest first, a page at a time.

    Within the key's scope; names of people masked; with the record's (masked) input.
    ``total`` is the number of pending placements under the same scope and filters: pages
    are ``offset`` = 0, ``limit``, 2 × ``limit``… while ``offset`` < ``total``.
    """
    record_kind = RECORD_KINDS[kind] if kind else None
    page = review_queue(conn, principal, community=community, grid=grid, kind=record_kind,
                        limit=limit, offset=offset)  # fmt: skip
    return JSONResponse({"items": page.items, "total": page.total, "limit": limit,
                         "offset": offset})  # fmt: skip


@router.post("/api/v1/review/{placement_id}")
def decide(
    request: Request,
    conn: SyncConnDep,
    placement_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: ReviewIn,
    principal: Annotated[Principal, Depends(require("records"))],
) -> JSONResponse:
    """Confirm a placement, or correct it with the code of the right address, room or building.

    A correction of a record placed by its address saves that address text as an alias of
    the chosen address (kind ``correction``): the geocoder matches it next time.
    """
    outcome = review(conn, principal, placement_id, body.action, body.code)
    conn.commit()
    if outcome.alias is not None:
        app_geocoder(request.app, conn).add_alias(*outcome.alias)
    alias = outcome.alias and {"code": outcome.alias[0], "text": outcome.alias[1]}
    return JSONResponse(outcome.placement | {"alias": alias})


@router.get("/api/v1/blocks/{code}")
def read_block(
    request: Request,
    conn: SyncConnDep,
    code: Annotated[str, Path(pattern=r"^[0-9]{6,25}$")],
    principal: Annotated[Principal, Depends(require("read"))],
) -> JSONResponse:
    """Return a block (district … room), its parents and its children, each with its counts.

    Counts: people (total, registered, renting), companies (total, by industry), events
    (total, by type, by status). Keys that may not see individual records get counts below
    the privacy threshold withheld (``null``), as in the tiles.
    """
    k = 0 if principal.can("records") else request.app.state.privacy_threshold
    return JSONResponse(block_summary(conn, code, k))


@router.get("/api/v1/analysis/services", dependencies=[needs("read")])
def services(
    conn: SyncConnDep,
    kind: Annotated[str, Query(min_length=1, max_length=50, description="school, clinic...")],
    radius_m: Annotated[float | None, Query(gt=0, le=20_000)] = None,
    within: Annotated[str | None, Query(pattern=r"^[0-9]{6,12}$")] = None,
    distance: Annotated[
        Literal["straight", "walking"],
        Query(description="straight line (default) or walking over the roads"),
    ] = "straight",
) -> JSONResponse:
    """Compare facilities of a kind with the people who live near them, per community.

    Per community: residents, residents within ``radius_m`` of a facility (straight line, or
    walking over the roads), facilities, capacity (given, or estimated from floor area),
    capacity per 1,000 residents.
    """
    return JSONResponse(service_analysis(conn, kind, radius_m, within, distance))
