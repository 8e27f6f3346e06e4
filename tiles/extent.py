"""The extent of each layer's data: the ``bounds`` and ``center`` of its TileJSON document.

Each layer's extent is ``ST_Extent`` of the rows its tiles show, computed once and kept until
the tile cache learns that one of the layer's geometry tables changed (the same change
notifications that invalidate tiles) or was cleared. A layer with no rows has Shenzhen's box.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from tiles.tilejson import DEFAULT_BOUNDS

if TYPE_CHECKING:
    import psycopg

    from tiles.cache import TileCache
    from tiles.layers import Layer

Bounds = tuple[float, float, float, float]
ConnFactory = Callable[[], AbstractAsyncContextManager["psycopg.AsyncConnection[Any]"]]

_ADMIN = "SELECT ST_Extent(geom) FROM twin.admin_unit WHERE level = %(level)s", ("admin_unit",)
#: Per layer: the query of its rows' extent (EPSG:4326) and the tables it reads.
EXTENT_SQL: dict[str, tuple[str, tuple[str, ...]]] = {
    "districts": _ADMIN,
    "streets": _ADMIN,
    "communities": _ADMIN,
    "grids": _ADMIN,
    "buildings": ("SELECT ST_Extent(footprint) FROM twin.building", ("building",)),
    "roads": ("SELECT ST_Extent(geom) FROM twin.road", ("road",)),
    "addresses": (
        "SELECT ST_Extent(geom) FROM twin.address WHERE level = 'door' AND status <> 'retired'",
        ("address",),
    ),
    "entities": (
        "SELECT ST_Extent(geom) FROM twin.geo_entity WHERE status = 'active'",
        ("geo_entity",),
    ),
    # Events show as counts per community at low zooms: the communities that have any.
    "events": (
        "SELECT ST_Extent(u.geom) FROM twin.block_counts AS agg "
        "JOIN twin.admin_unit AS u ON u.code = agg.code "
        "WHERE agg.events > 0 AND u.level = 'community'",
        ("block_counts", "admin_unit"),
    ),
}
#: The smallest extent reported (degrees, about 100 m): a single point still gets a box.
MIN_SPAN_DEG = 0.001


def padded(west: float, south: float, east: float, north: float) -> Bounds:
    """Return a box at least :data:`MIN_SPAN_DEG` wide and high, within Web Mercator's range.

    Examples
    --------
    >>> padded(114.0, 22.5, 114.0, 22.5)
    (113.9995, 22.4995, 114.0005, 22.5005)
    """
    if east - west < MIN_SPAN_DEG:
        mid = (west + east) / 2
        west, east = mid - MIN_SPAN_DEG / 2, mid + MIN_SPAN_DEG / 2
    if north - south < MIN_SPAN_DEG:
        mid = (south + north) / 2
        south, north = mid - MIN_SPAN_DEG / 2, mid + MIN_SPAN_DEG / 2
    return (max(west, -180.0), max(south, -85.0511), min(east, 180.0), min(north, 85.0511))


def union(boxes: list[Bounds]) -> Bounds:
    """Return the box around several boxes (Shenzhen's box for none)."""
    if not boxes:
        return DEFAULT_BOUNDS
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


class LayerExtents:
    """The extent of each layer, cached until the tile cache sees its tables change."""

    def __init__(self, cache: TileCache) -> None:
        self._cache = cache
        self._known: dict[str, tuple[tuple[int, ...], Bounds | None]] = {}

    def _version(self, tables: tuple[str, ...]) -> tuple[int, ...]:
        return (self._cache.clears, *(self._cache.changes_of(t) for t in tables))

    async def extent(self, conn_factory: ConnFactory, layer: Layer) -> Bounds | None:
        """Return the extent of a layer's rows, or None when it has none."""
        query, tables = EXTENT_SQL[layer.name]
        version = self._version(tables)
        known = self._known.get(layer.name)
        if known is not None and known[0] == version:
            return known[1]
        async with conn_factory() as conn:
            cur = await conn.execute(
                f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ({query}) AS q(e)",
                layer.params,
            )
            row = await cur.fetchone()
        box = None if row is None or row[0] is None else padded(*(float(v) for v in row))
        self._known[layer.name] = (version, box)
        return box

    async def bounds(self, conn_factory: ConnFactory, layer: Layer) -> Bounds:
        """Return a layer's TileJSON bounds: its extent, or Shenzhen's box when it is empty."""
        return await self.extent(conn_factory, layer) or DEFAULT_BOUNDS
