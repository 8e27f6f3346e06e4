"""Split a polygon into parts that tile it exactly: no gaps, no overlaps.

Voronoi cells of points tile the plane; clipping them to the parent tiles the parent. Seed
points are drawn inside the parent and moved once or twice to their cells' centroids (Lloyd's
relaxation) so that the parts are compact, like real streets and communities. The last part
is the parent minus all others, which absorbs floating-point slivers, so the parts' union is
the parent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

import shapely
import shapely.affinity
import shapely.ops
import shapely.prepared
from shapely import MultiPolygon, Polygon

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Keep the polygonal parts of a geometry as a valid MultiPolygon (possibly empty)."""
    geom = shapely.make_valid(geom)
    parts: list[Polygon] = []
    for g in getattr(geom, "geoms", [geom]):
        if isinstance(g, Polygon) and not g.is_empty:
            parts.append(g)
        elif isinstance(g, MultiPolygon):
            parts.extend(p for p in g.geoms if not p.is_empty)
    return MultiPolygon(parts)


def points_inside(parent: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` points uniformly inside a polygon (rejection sampling in its bounds)."""
    xmin, ymin, xmax, ymax = parent.bounds
    prepared = shapely.prepared.prep(parent)
    found: list[tuple[float, float]] = []
    while len(found) < n:
        xs = rng.uniform(xmin, xmax, size=max(16, 4 * n))
        ys = rng.uniform(ymin, ymax, size=max(16, 4 * n))
        for x, y in zip(xs, ys, strict=True):
            if prepared.contains(shapely.Point(x, y)):
                found.append((x, y))
                if len(found) == n:
                    break
    return np.array(found)


def _cells(parent: BaseGeometry, seeds: np.ndarray) -> list[BaseGeometry]:
    if len(seeds) == 1:
        return [parent]
    envelope = parent.envelope.buffer(
        max(parent.bounds[2] - parent.bounds[0], parent.bounds[3] - parent.bounds[1])
    )
    diagram = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=envelope)
    # voronoi_polygons returns cells in no fixed order: match each seed to its cell.
    cells = list(diagram.geoms)
    tree = shapely.STRtree(cells)
    ordered = []
    for x, y in seeds:
        hits = tree.query(shapely.Point(x, y), predicate="intersects")
        ordered.append(cells[int(min(hits))])
    return [parent.intersection(c) for c in ordered]


def tessellate(
    parent: BaseGeometry, n: int, rng: np.random.Generator, relax: int = 2
) -> list[MultiPolygon]:
    """Split ``parent`` (planar, metric coordinates) into ``n`` compact parts that tile it.

    Returns exactly ``n`` valid MultiPolygons in a stable order (west to east of their seeds,
    after relaxation); a part may be empty only when the parent is too small to split.
    """
    parent = as_multipolygon(parent)
    if n <= 1:
        return [parent]
    seeds = points_inside(parent, n, rng)
    for _ in range(relax):
        moved = []
        for (x, y), cell in zip(seeds, _cells(parent, seeds), strict=True):
            point = cell.representative_point() if cell.is_empty is False else None
            c = cell.centroid if not cell.is_empty else None
            target = c if c is not None and parent.contains(c) else point
            moved.append((target.x, target.y) if target is not None else (x, y))
        seeds = np.array(moved)
    order = np.lexsort((seeds[:, 1], seeds[:, 0]))
    parts = [as_multipolygon(c) for c in _cells(parent, seeds[order])]
    # The last part takes whatever the others leave, so the union is exactly the parent.
    parts[-1] = as_multipolygon(parent.difference(shapely.union_all(parts[:-1])))
    return parts
