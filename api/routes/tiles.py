"""Vector tiles (MVT), their TileJSON documents and the MapLibre style."""

from __future__ import annotations

import gzip
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse, Response

from api.auth import needs, require
from api.deps import lend_tile_connection
from tiles.audience import audience_for
from tiles.cache import CachedTile, TileCache
from tiles.extent import LayerExtents, union
from tiles.layers import LAYERS, resolve_layers
from tiles.service import get_tile
from tiles.tilejson import style, tilejson
from twin.keys import Principal

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
#: The longest If-None-Match and Accept-Encoding accepted (longer: 422).
MAX_HEADER = 1000


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names the ETag (malformed headers never match).

    Examples
    --------
    >>> etag_matches('W/"ab", "cd"', '"cd"'), etag_matches('garbage,,"x', '"x"')
    (True, False)
    """
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def tile_headers(tile: CachedTile, hit: bool, max_age_s: int) -> dict[str, str]:
    """Return the caching headers of a tile response."""
    return {
        "ETag": tile.etag,
        # private: a tile depends on the key (its privacy view); no shared cache may keep it.
        "Cache-Control": f"private, max-age={max_age_s}",
        "X-Tile-Cache": "hit" if hit else "miss",
        "Vary": "Accept-Encoding",
    }


def tiles_router(cache: TileCache, threshold: int, max_age_s: int = 60) -> APIRouter:
    """Build the tile routes around a cache and a privacy threshold."""
    router = APIRouter(tags=["tiles"])
    extents = LayerExtents(cache)

    @router.get(
        "/tiles/{layers}/{z}/{x}/{y}.mvt",
        response_class=Response,
        responses={
            200: {"content": {MVT_MEDIA_TYPE: {}}},
            304: {},
            400: {"description": "no such tile"},
            404: {"description": "unknown layer"},
        },
    )
    async def tile(
        request: Request,
        principal: Annotated[Principal, Depends(require("read"))],
        layers: Annotated[str, Path(description="Layer names, comma-separated.", max_length=200)],
        z: Annotated[int, Path(ge=0, le=22)],
        x: Annotated[int, Path(ge=0)],
        y: Annotated[int, Path(ge=0)],
        if_none_match: Annotated[str | None, Header(max_length=MAX_HEADER)] = None,
        accept_encoding: Annotated[str | None, Header(max_length=MAX_HEADER)] = None,
    ) -> Response:
        """Return one vector tile of one or more layers (Mapbox Vector Tile 2.1, gzip).

        Counts below the privacy threshold are withheld unless the key's role may see
        individuals (admin, supervisor) or the block lies in a grid worker's scope.
        """
        audience = audience_for(principal.role, principal.scope_code, threshold)
        result = await get_tile(
            lambda: lend_tile_connection(request.app), cache, layers, z, x, y, audience
        )
        headers = tile_headers(result.tile, result.cache_hit, max_age_s)
        if etag_matches(if_none_match, result.tile.etag):
            return Response(status_code=304, headers=headers)
        if accept_encoding and "gzip" in accept_encoding:
            headers["Content-Encoding"] = "gzip"
            return Response(result.tile.gzipped, media_type=MVT_MEDIA_TYPE, headers=headers)
        return Response(
            gzip.decompress(result.tile.gzipped), media_type=MVT_MEDIA_TYPE, headers=headers
        )

    @router.get("/tiles/{layer}.json", dependencies=[needs("read")])
    async def layer_tilejson(request: Request, layer: str) -> JSONResponse:
        """Return the TileJSON 3.0 document of a layer."""
        (found,) = resolve_layers(layer)[:1]
        base = str(request.base_url).rstrip("/")
        bounds = await extents.bounds(lambda: lend_tile_connection(request.app), found)
        return JSONResponse(tilejson(found, base, bounds))

    @router.get("/styles/twin.json", dependencies=[needs("read")])
    async def twin_style(request: Request) -> JSONResponse:
        """Return a MapLibre style of every layer, with no outside resources."""
        found = [await extents.extent(lambda: lend_tile_connection(request.app), lyr)
                 for lyr in LAYERS.values()]  # fmt: skip
        bounds = union([box for box in found if box is not None])
        return JSONResponse(style(str(request.base_url).rstrip("/"), bounds))

    @router.get("/tiles", dependencies=[needs("read")])
    async def catalogue(request: Request) -> JSONResponse:
        """List the layers with their zooms and TileJSON addresses."""
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "layers": [
                    {
                        "name": n,
                        "minzoom": lyr.minzoom,
                        "maxzoom": lyr.maxzoom,
                        "tilejson": f"{base}/tiles/{n}.json",
                        "description": lyr.description,
                    }
                    for n, lyr in LAYERS.items()
                ],
                "cache": cache.stats(),
            }
        )

    return router
