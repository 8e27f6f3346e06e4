"""Points in polygons in memory: the finest building or unit each point falls in.

For large batches the polygons around the points (buildings and administrative units
intersecting their extent) are read once, and every later chunk whose points lie inside the
loaded extent is answered without a query. The rule is the SQL's (``sql/points.sql``), so
both give the same answer: the smallest building whose footprint intersects the point — its
boundary included (``ST_Intersects``) — ties to the lower code, else the finest unit (ties:
the lower code).

Each layer is a uniform cell index (:class:`_Layer`): cells about the size of the median
polygon, and per cell its candidate polygons in rank order, each marked when it covers the
whole cell. A point takes the first candidate of its cell that covers the cell or holds it by
an even-odd crossing test over the candidate's edges (all rings: holes and the parts of a
multipolygon count alike). The test runs compiled (numba) over both cores. A point within
:data:`EDGE_EPS_DEG` of a candidate's edge is not decided by the crossing test: it is handed
to GEOS (shapely's ``intersects``, the predicate PostGIS uses), so points on edges and vertices
get the database's answer exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numba
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
#: A point nearer than this to a candidate's edge (about 0.1 mm) is decided by GEOS.
EDGE_EPS_DEG = 1e-9
#: At most this many cells per layer (the cell grows when the extent is large).
MAX_CELLS = 1_000_000
#: Below this many points one thread answers (starting the second costs more).
PARALLEL_FROM = 20_000

#: What the kernel answers for a point it leaves to GEOS.
_EXACT = -2


@numba.njit(cache=True, nogil=True)
def _one(px: float, py: float, cell: int, cand_start: Any, cand: Any, cand_covers: Any,
         bounds: Any, edge_start: Any, ex0: Any, ey0: Any, ex1: Any, ey1: Any,
         eps: float) -> int:  # fmt: skip
    for k in range(cand_start[cell], cand_start[cell + 1]):
        poly = cand[k]
        if cand_covers[k]:
            return int(poly)
        if not (bounds[poly, 0] - eps <= px <= bounds[poly, 2] + eps
                and bounds[poly, 1] - eps <= py <= bounds[poly, 3] + eps):  # fmt: skip
            continue
        inside = False
        for e in range(edge_start[poly], edge_start[poly + 1]):
            x0, y0, x1, y1 = ex0[e], ey0[e], ex1[e], ey1[e]
            if (min(x0, x1) - eps <= px <= max(x0, x1) + eps
                    and min(y0, y1) - eps <= py <= max(y0, y1) + eps):  # fmt: skip
                dx, dy = x1 - x0, y1 - y0
                cross = dx * (py - y0) - dy * (px - x0)
                if cross * cross <= eps * eps * (dx * dx + dy * dy):
                    return _EXACT  # on or next to the edge: GEOS decides
            if (y0 > py) != (y1 > py) and px < x0 + (py - y0) * (x1 - x0) / (y1 - y0):
                inside = not inside
        if inside:
            return int(poly)
    return -1


@numba.njit(cache=True, nogil=True)
def _run(lo: int, hi: int, x: Any, y: Any, origin_x: float, origin_y: float, size: float,
         nx: int, ny: int, cand_start: Any, cand: Any, cand_covers: Any, bounds: Any,
         edge_start: Any, ex0: Any, ey0: Any, ex1: Any, ey1: Any, eps: float,
         out: Any) -> None:  # fmt: skip
    for i in range(lo, hi):
        fx = (x[i] - origin_x) / size
        fy = (y[i] - origin_y) / size
        if not (0.0 <= fx < nx and 0.0 <= fy < ny):
            out[i] = -1
            continue
        cell = int(fy) * nx + int(fx)
        out[i] = _one(x[i], y[i], cell, cand_start, cand, cand_covers, bounds, edge_start,
                      ex0, ey0, ex1, ey1, eps)  # fmt: skip


@numba.njit(cache=True, parallel=True, nogil=True)
def _parallel(x: Any, y: Any, origin_x: float, origin_y: float, size: float, nx: int, ny: int,
              cand_start: Any, cand: Any, cand_covers: Any, bounds: Any, edge_start: Any,
              ex0: Any, ey0: Any, ex1: Any, ey1: Any, eps: float, parts: int,
              out: Any) -> None:  # fmt: skip
    n = len(x)
    step = (n + parts - 1) // parts
    for part in numba.prange(parts):
        _run(part * step, min(n, (part + 1) * step), x, y, origin_x, origin_y, size, nx, ny,
             cand_start, cand, cand_covers, bounds, edge_start, ex0, ey0, ex1, ey1, eps,
             out)  # fmt: skip


class _Layer:
    """Polygons with their codes in a uniform cell index, candidates in rank order."""

    def __init__(self, rows: list[tuple[str, bytes]], by_area: bool) -> None:
        self.codes = np.array([r[0] for r in rows], dtype=object)
        geoms = shapely.from_wkb([r[1] for r in rows]) if rows else np.array([], dtype=object)
        shapely.prepare(geoms)
        order = np.lexsort((self.codes.astype(str),
                            shapely.area(geoms) if by_area and rows
                            else -np.array([len(c) for c in self.codes], dtype=float)))  # fmt: skip
        # Polygons renumbered by rank: a lower index is the better answer.
        self.codes, self.geoms = self.codes[order], geoms[order]
        self.bounds = np.ascontiguousarray(shapely.bounds(self.geoms)).reshape(-1, 4)
        self._edges()
        self._cells()

    def _edges(self) -> None:
        rings = shapely.get_rings(shapely.get_parts(self.geoms))  # exteriors and holes
        _, poly_of_part = shapely.get_parts(self.geoms, return_index=True)
        _, part_of_ring = shapely.get_rings(shapely.get_parts(self.geoms), return_index=True)
        coords, ring_of_coord = shapely.get_coordinates(rings, return_index=True)
        last = np.r_[ring_of_coord[1:] != ring_of_coord[:-1], True]  # a ring's closing vertex
        start = np.flatnonzero(~last)
        self.ex0, self.ey0 = coords[start, 0].copy(), coords[start, 1].copy()
        self.ex1, self.ey1 = coords[start + 1, 0].copy(), coords[start + 1, 1].copy()
        poly_of_edge = poly_of_part[part_of_ring[ring_of_coord[start]]]
        counts = np.bincount(poly_of_edge, minlength=len(self.geoms))
        self.edge_start = np.r_[0, np.cumsum(counts)].astype(np.int32)

    def _cells(self) -> None:
        n = len(self.geoms)
        if not n:
            self.origin, self.size, self.nx, self.ny = (0.0, 0.0), 1.0, 0, 0
            self.cand_start = np.zeros(1, dtype=np.int32)
            self.cand = np.zeros(0, dtype=np.int32)
            self.cand_covers = np.zeros(0, dtype=np.bool_)
            return
        b = self.bounds
        w, s, e, nn = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
        size = float(np.median(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])))
        size = max(size, np.sqrt((e - w) * (nn - s) / MAX_CELLS), 1e-7)
        self.origin, self.size = (float(w), float(s)), size
        self.nx, self.ny = int((e - w) / size) + 1, int((nn - s) / size) + 1
        ix0 = ((b[:, 0] - w) / size).astype(np.int64)
        ix1 = np.minimum(((b[:, 2] - w) / size).astype(np.int64), self.nx - 1)
        iy0 = ((b[:, 1] - s) / size).astype(np.int64)
        iy1 = np.minimum(((b[:, 3] - s) / size).astype(np.int64), self.ny - 1)
        wx, wy = ix1 - ix0 + 1, iy1 - iy0 + 1
        per = wx * wy
        poly = np.repeat(np.arange(n), per)  # every (polygon, cell under its box)
        k = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
        cx = ix0[poly] + k % wx[poly]
        cy = iy0[poly] + k // wx[poly]
        cell = cy * self.nx + cx
        order = np.lexsort((poly, cell))  # by cell, then rank
        poly, cell, cx, cy = poly[order], cell[order], cx[order], cy[order]
        covers = np.zeros(len(poly), dtype=np.bool_)
        big = (wx[poly] > 2) & (wy[poly] > 2)  # only a polygon over 3+ cells can cover one
        if big.any():  # the box a little larger: a point rounded into the cell is still in it
            pad = EDGE_EPS_DEG
            boxes = shapely.box(
                w + cx[big] * size - pad,
                s + cy[big] * size - pad,
                w + (cx[big] + 1) * size + pad,
                s + (cy[big] + 1) * size + pad,
            )
            covers[big] = shapely.covers(self.geoms[poly[big]], boxes)
        self.cand, self.cand_covers = poly.astype(np.int32), covers
        self.cand_start = np.searchsorted(cell, np.arange(self.nx * self.ny + 1)).astype(np.int32)

    def best(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Return the best-ranked polygon index holding each point, or -1."""
        out = np.full(len(x), -1, dtype=np.int64)
        if not len(self.geoms) or not len(x):
            return out
        args = (x, y, self.origin[0], self.origin[1], self.size, self.nx, self.ny,
                self.cand_start, self.cand, self.cand_covers, self.bounds, self.edge_start,
                self.ex0, self.ey0, self.ex1, self.ey1, EDGE_EPS_DEG)  # fmt: skip
        if len(x) >= PARALLEL_FROM:  # both cores
            _parallel(*args, numba.get_num_threads(), out)
        else:  # starting the threads costs more than the points
            _run(0, len(x), *args, out)
        exact = np.flatnonzero(out == _EXACT)
        if len(exact):
            out[exact] = self._exact(np.asarray(shapely.points(x[exact], y[exact])))
        return out

    def _exact(self, points: NDArray[Any]) -> NDArray[np.int64]:
        """GEOS's answer for points on or next to an edge: the first candidate intersecting."""
        out = np.full(len(points), -1, dtype=np.int64)
        pt, poly = shapely.STRtree(self.geoms).query(points, predicate="intersects")
        if len(pt):
            order = np.lexsort((poly, pt))
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
        self._codes = np.full(1, None, dtype=object)

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
        # Buildings, then units, then None: the answer is one index into these.
        self._codes = np.concatenate([self._layers["building"].codes, self._layers["unit"].codes,
                                      np.full(1, None, dtype=object)])  # fmt: skip

    def locate_xy(self, xy: NDArray[np.float64]) -> NDArray[Any]:
        """Return the finest block code of each ``(lon, lat)`` row of ``xy`` (None outside)."""
        if not len(xy):
            return np.full(0, None, dtype=object)
        x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
        box = (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
        if not self._covers(box):
            self._load(box)
        buildings, units = self._layers["building"], self._layers["unit"]
        found = buildings.best(x, y)
        rest = np.flatnonzero(found < 0)  # units only for points in no building
        unit = units.best(x[rest], y[rest])
        found[rest] = np.where(unit >= 0, unit + len(buildings.codes), -1)
        return self._codes.take(found)

    def locate(self, points: Sequence[tuple[int, float, float]]) -> dict[int, str]:
        """Return the finest block code of each ``(row, lon, lat)`` by row (none outside)."""
        if not points:
            return {}
        rows = [p[0] for p in points]
        codes = self.locate_xy(np.array([p[1:] for p in points], dtype=np.float64))
        return {row: code for row, code in zip(rows, codes.tolist(), strict=True) if code}
