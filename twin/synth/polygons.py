"""Split a polygon into parts that tile it exactly: no gaps, no overlaps.

Voronoi cells of points tile the plane; clipped to the parent they tile the parent. Seed
points are drawn inside the parent and moved towards their cells' centroids (Lloyd's
relaxation) so that the parts are compact, like real streets and communities, while staying
irregular. The last part is the parent minus all others, which absorbs floating-point slivers,
so the parts' union is the parent. Given outlines (``--streets``) are fitted the same way: each
clipped to the parent, overlaps to the lower code, gaps to the neighbour with the longest
shared border.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

import shapely
import shapely.affinity
from shapely import MultiPolygon

from twin.synth.geometry import as_multipolygon

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shapely.geometry.base import BaseGeometry

#: Parts of a tile smaller than this (m²) are slivers of floating-point overlay: dropped, as
#: they would turn invalid once reprojected.
SLIVER_M2 = 0.01
#: ``voronoi_polygons(ordered=True)`` needs shapely 2.1 and GEOS 3.12.
_ORDERED = tuple(int(p) for p in shapely.__version__.split(".")[:2]) >= (
    2,
    1,
) and shapely.geos_version >= (3, 12, 0)


def solid(geom: BaseGeometry, sliver: float = SLIVER_M2) -> MultiPolygon:
    """Return the polygonal parts of a metric geometry as a valid MultiPolygon, without slivers.

    Examples
    --------
    >>> from shapely import box
    >>> solid(box(0, 0, 10, 10).union(box(20, 0, 20.000001, 1e-4))).area
    100.0
    """
    parts = [p for p in as_multipolygon(geom).geoms if p.area >= sliver]
    return MultiPolygon(parts)


def points_inside(parent: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` points uniformly inside a polygon (rejection sampling in its bounds).

    Examples
    --------
    >>> from shapely import box
    >>> pts = points_inside(box(0, 0, 10, 10), 5, np.random.default_rng(1))
    >>> pts.shape, bool(((pts >= 0) & (pts <= 10)).all())
    ((5, 2), True)
    """
    xmin, ymin, xmax, ymax = parent.bounds
    shapely.prepare(parent)
    found: list[np.ndarray] = []
    have = 0
    while have < n:
        batch = max(16, 4 * n)
        xs = rng.uniform(xmin, xmax, size=batch)
        ys = rng.uniform(ymin, ymax, size=batch)
        inside = shapely.contains_xy(parent, xs, ys)
        pts = np.column_stack([xs[inside], ys[inside]])
        found.append(pts)
        have += len(pts)
    return np.concatenate(found)[:n]


def _voronoi(extent: BaseGeometry, seeds: np.ndarray) -> list[BaseGeometry]:
    """Voronoi cells of the seeds, in seed order, unclipped (covering the extent and more)."""
    xmin, ymin, xmax, ymax = extent.bounds
    envelope = extent.envelope.buffer(max(xmax - xmin, ymax - ymin))
    points = shapely.multipoints(seeds)
    if _ORDERED:
        diagram = shapely.voronoi_polygons(points, extend_to=envelope, ordered=True)
        return list(shapely.get_parts(diagram))
    # pragma: no cover - older GEOS: match each seed to the cell that holds it
    unordered = list(shapely.get_parts(shapely.voronoi_polygons(points, extend_to=envelope)))
    tree = shapely.STRtree(unordered)
    return [
        unordered[int(min(tree.query(shapely.Point(x, y), predicate="intersects")))]
        for x, y in seeds
    ]


def _cells(whole: BaseGeometry, seeds: np.ndarray, aspect: float) -> list[BaseGeometry]:
    """Voronoi cells of the seeds with x distances scaled by ``aspect``, in seed order.

    Only the seeds and the (convex) cells are scaled, never the parent: an affine map of a
    polygon that nearly touches itself can make it invalid.
    """
    xmin, ymin, xmax, ymax = whole.bounds
    extent = shapely.box(xmin * aspect, ymin, xmax * aspect, ymax)
    cells = _voronoi(extent, seeds * np.array([aspect, 1.0]))
    if aspect == 1:
        return cells
    return [shapely.affinity.scale(c, xfact=1 / aspect, origin=(0, 0)) for c in cells]


def _relax(parent: BaseGeometry, seeds: np.ndarray, aspect: float) -> np.ndarray:
    """Move each seed to the centroid of its cell (inside the parent)."""
    cells = shapely.intersection(np.asarray(_cells(parent, seeds, aspect), dtype=object), parent)
    moved = []
    for (x, y), cell in zip(seeds, cells, strict=True):
        if cell.is_empty:
            moved.append((x, y))
            continue
        target = cell.centroid
        if not parent.contains(target):
            target = cell.representative_point()
        moved.append((target.x, target.y))
    return np.array(moved)


def tessellate(
    parent: BaseGeometry,
    n: int,
    rng: np.random.Generator,
    relax: int = 2,
    *,
    aspect: float = 1.0,
    sliver: float = SLIVER_M2,
) -> list[MultiPolygon]:
    """Split ``parent`` (planar coordinates) into ``n`` compact parts that tile it.

    The parts are the Voronoi cells of seeds relaxed towards their cells' centroids (Lloyd),
    cut from the parent in its own coordinates.

    Parameters
    ----------
    parent
        The polygon to split (valid).
    n, rng
        How many parts, and the random stream that places their seeds.
    relax
        Rounds of Lloyd's relaxation (0: rougher, more varied parts).
    aspect
        Ground length of a unit of x over a unit of y (cos(latitude) in WGS84).
    sliver
        Parts smaller than this area are dropped.

    Returns
    -------
    list of MultiPolygon
        Exactly ``n`` valid parts cut from the parent in its own coordinates, ordered west to
        east by their seeds; one may be empty only if the parent is too small to split.

    Examples
    --------
    >>> from shapely import box
    >>> parts = tessellate(box(0, 0, 100, 100), 4, np.random.default_rng(7))
    >>> len(parts), round(sum(p.area for p in parts), 6)
    (4, 10000.0)
    """
    whole = as_multipolygon(parent)
    if n <= 1:
        return [whole]
    seeds = points_inside(whole, n, rng)
    for _ in range(relax):
        seeds = _relax(whole, seeds, aspect)
    order = np.lexsort((seeds[:, 1], seeds[:, 0]))
    cells = np.asarray(_cells(whole, seeds[order], aspect), dtype=object)
    parts = [solid(c, sliver) for c in shapely.intersection(cells, whole)]
    return _fill_gaps(whole, parts, sliver)


def _fill_gaps(whole: BaseGeometry, parts: list[MultiPolygon], sliver: float) -> list[MultiPolygon]:
    """Give any piece of the parent that no part covers to its longest-bordering part.

    Voronoi cells share their edges exactly, so the pieces are rare: where the parent's
    boundary meets a cell edge. Pieces below 100 slivers are rounding, left alone (cutting
    them out of a neighbour would only leave spikes).
    """
    rest = solid(whole.difference(shapely.union_all(parts)), 100 * sliver)
    for gap in rest.geoms:
        near = [i for i, p in enumerate(parts) if p.intersects(gap)]
        if near:
            best = max(near, key=lambda i: gap.boundary.intersection(parts[i].boundary).length)
            parts[best] = solid(parts[best].union(gap), sliver)
    return parts


def lonlat_scale(geom: BaseGeometry) -> tuple[float, float]:
    """Return (aspect, sliver area) to tessellate a WGS84 geometry as if in metres.

    Examples
    --------
    >>> from shapely import box
    >>> round(lonlat_scale(box(113.8, 22.5, 114.0, 22.7))[0], 3)
    0.923
    """
    aspect = math.cos(math.radians(geom.centroid.y))
    return aspect, SLIVER_M2 / (111_320.0**2 * aspect)


def fit_outlines(
    parent: BaseGeometry,
    given: dict[str, BaseGeometry],
    codes: Sequence[str],
    sliver: float = SLIVER_M2,
) -> dict[str, MultiPolygon]:
    """Make given outlines tile ``parent`` exactly (parts below ``sliver`` area are dropped).

    Each outline is clipped to the parent; where two overlap, the lower code keeps the
    overlap; every gap left goes to the part sharing the longest border with it.

    Raises
    ------
    ValueError
        Naming the codes that have no outline.

    Examples
    --------
    >>> from shapely import box
    >>> fitted = fit_outlines(
    ...     box(0, 0, 10, 10), {"a": box(-1, 0, 6, 9), "b": box(5, 0, 12, 8)}, ["a", "b"]
    ... )
    >>> round(fitted["a"].area + fitted["b"].area, 6)
    100.0
    """
    missing = sorted(c for c in codes if c not in given)
    if missing:
        raise ValueError(f"no outline for {', '.join(missing)}")
    out: dict[str, MultiPolygon] = {}
    taken: BaseGeometry = shapely.Polygon()
    for code in sorted(codes):
        part = solid(given[code].intersection(parent).difference(taken), sliver)
        out[code] = part
        taken = taken.union(part)
    for gap in solid(parent.difference(taken), sliver).geoms:
        best = max(sorted(out), key=lambda c: gap.boundary.intersection(out[c].boundary).length)
        out[best] = solid(out[best].union(gap), sliver)
    return out
