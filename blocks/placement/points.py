"""Points in polygons in memory: the finest building or unit each point falls in.

For large batches the polygons around the points (buildings and administrative units
intersecting their extent) are read once into shapely STRtrees, and every later chunk whose
points lie inside the loaded extent is answered without a query. The rule is the SQL's
(``sql/points.sql``), so both give the same answer: the smallest building whose footprint
intersects the point (ties: the lower code), else the finest unit (ties: the lower code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

import shapely

if TYPE_CHECKING:
    from collections.abc import Sequence

    import psycopg
    from numpy.typing import NDArray

_LOAD = {
    "building": "SELECT code, ST_AsBinary(footprint) FROM twin.building "
                "WHERE footprint && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
    "unit": "SELECT code, ST_AsBinary(geom) FROM twin.admin_unit "
            "WHERE level IN ('district', 'street', 'community', 'grid') "
            "AND geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
}  # fmt: skip
#: Degrees added around the points' extent when loading (a little room for the next chunks).
MARGIN_DEG = 0.01


class _Layer:
    """Polygons with their codes, in an STRtree, ranked for ties."""

    def __init__(self, rows: list[tuple[str, bytes]], by_area: bool) -> None:
        self.codes = np.array([r[0] for r in rows], dtype=object)
        self.geoms = shapely.from_wkb([r[1] for r in rows]) if rows else np.array([])
        self.tree = shapely.STRtree(self.geoms)
        # Prepared polygons answer point-in-polygon in about log(vertices), which matters for
        # units with thousands of vertices (a district's outline).
        shapely.prepare(self.geoms)
        order = np.lexsort((self.codes.astype(str),
                            shapely.area(self.geoms) if by_area and rows
                            else -np.array([len(c) for c in self.codes], dtype=float)))  # fmt: skip
        self.rank = np.empty(len(rows), dtype=np.int64)
        self.rank[order] = np.arange(len(rows))

    def best(self, points: NDArray[Any]) -> NDArray[Any]:
        """Return the best-ranked polygon index per point, or -1."""
        out = np.full(len(points), -1, dtype=np.int64)
        if not len(self.codes) or not len(points):
            return out
        pt, poly = self.tree.query(points)  # bounding boxes; then the prepared polygons decide
        hit = shapely.intersects(self.geoms[poly], points[pt])
        pt, poly = pt[hit], poly[hit]
        if not len(pt):
            return out
        order = np.lexsort((self.rank[poly], pt))
        pt, poly = pt[order], poly[order]
        first = np.r_[True, pt[1:] != pt[:-1]]
        out[pt[first]] = poly[first]
        return out


class PointLocator:
    """Locate points against the polygons of an extent, loading more when points leave it."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.extent: tuple[float, float, float, float] | None = None
        self._layers: dict[str, _Layer] = {}

    def _covers(self, box: tuple[float, float, float, float]) -> bool:
        e = self.extent
        return (
            e is not None
            and e[0] <= box[0]
            and e[1] <= box[1]
            and e[2] >= box[2]
            and (e[3] >= box[3])
        )

    def _load(self, box: tuple[float, float, float, float]) -> None:
        if self.extent is not None:  # grow to hold both: never shrink between chunks
            e = self.extent
            box = (min(e[0], box[0]), min(e[1], box[1]), max(e[2], box[2]), max(e[3], box[3]))
        box = (box[0] - MARGIN_DEG, box[1] - MARGIN_DEG, box[2] + MARGIN_DEG, box[3] + MARGIN_DEG)
        for name, query in _LOAD.items():
            rows = self.conn.execute(query, box).fetchall()
            self._layers[name] = _Layer(rows, by_area=name == "building")
        self.extent = box

    def locate(self, points: Sequence[tuple[int, float, float]]) -> dict[int, str]:
        """Return the finest block code of each ``(row, lon, lat)`` by row (none outside)."""
        if not points:
            return {}
        rows = [p[0] for p in points]
        xy = np.array([p[1:] for p in points], dtype=np.float64)
        box = (float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()),
               float(xy[:, 1].max()))  # fmt: skip
        if not self._covers(box):
            self._load(box)
        geoms = np.asarray(shapely.points(xy))
        codes = np.full(len(rows), None, dtype=object)
        building = self._layers["building"].best(geoms)
        inside = building >= 0
        codes[inside] = self._layers["building"].codes[building[inside]]
        rest = np.flatnonzero(~inside)  # units only for points in no building
        unit = self._layers["unit"].best(geoms[rest])
        codes[rest[unit >= 0]] = self._layers["unit"].codes[unit[unit >= 0]]
        return {row: code for row, code in zip(rows, codes.tolist(), strict=True) if code}
