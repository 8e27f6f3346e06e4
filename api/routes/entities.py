"""Geographic entity auto-coding over HTTP.

``POST /api/v1/entities:code`` codes a GeoJSON FeatureCollection (each feature one entity) and
answers one result per feature, in order, with the problems of rejected rows; the good rows
are coded even when others are rejected. ``GET /api/v1/entities/{code}`` reads one entity
and its links; ``GET /api/v1/entity-classes`` lists the classification.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from api.auth import needs, require
from api.deps import SyncConnDep
from api.input import ApiModel
from blocks.coding.files import items_from_features
from blocks.coding.model import FORMS
from blocks.coding.service import code_entities, get_entity, list_classes
from twin.keys import Principal

router = APIRouter(tags=["entities"])

#: Features in one request; bigger batches go through ``twin entity code FILE``.
MAX_FEATURES = 10_000


class CodingRequest(ApiModel):
    """A batch of entities to code, as a GeoJSON FeatureCollection plus batch options.

    Each feature may carry ``source_id`` (the id in the sending system: re-sending it returns
    the same code), ``class`` (a minor class overriding the batch's) and ``name`` properties.
    """

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]] = Field(max_length=MAX_FEATURES)
    class_code: str | None = Field(
        None, alias="class", description="Minor class of features that name none, e.g. 3101"
    )
    form: Literal["admin", "beidou"] = Field(
        "admin", description=f"Code form, one of {', '.join(FORMS)}"
    )
    source: str = Field(
        "api", min_length=1, max_length=100, description="The system the source ids come from"
    )
    crs: str = Field("EPSG:4326", max_length=50, description="CRS of the coordinates")

    model_config = ConfigDict(populate_by_name=True)


@router.post("/api/v1/entities:code")
def code(
    conn: SyncConnDep,
    body: CodingRequest,
    principal: Annotated[Principal, Depends(require("code"))],
) -> JSONResponse:
    """Code a batch of entities: ``community + class + serial`` (or the Beidou form).

    The answer lists, per feature in order: ``row``, ``status`` (new, existing, updated,
    recoded, rejected), ``code``, ``previous_code``, ``community_code``, ``class_code``,
    ``beidou_code`` and ``problems`` (``field: message``), and counts per status.
    """
    items = items_from_features(body.features, crs=body.crs)
    results = code_entities(
        conn, items, body.class_code, body.form, principal.actor, source=body.source
    )
    counts = Counter(r.status for r in results)
    return JSONResponse(
        {"results": [r.as_dict() for r in results], "counts": dict(sorted(counts.items()))}
    )


@router.get("/api/v1/entities/{code}", dependencies=[needs("read")])
def read_entity(conn: SyncConnDep, code: str) -> JSONResponse:
    """Return a coded entity (retired ones with their successors), its geometry and links."""
    return JSONResponse(get_entity(conn, code).as_dict())


@router.get("/api/v1/entity-classes", dependencies=[needs("read")])
def classes(
    conn: SyncConnDep,
    level: Annotated[Literal["major", "medium", "minor"] | None, Query()] = None,
) -> JSONResponse:
    """List the classes: code, level, parent, Chinese and English names, geometry type."""
    return JSONResponse({"classes": [asdict(c) for c in list_classes(conn, level)]})
