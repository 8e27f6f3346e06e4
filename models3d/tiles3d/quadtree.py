"""The city model's tile tree: a geographic quadtree with additive refinement.

Cells are those of the global geographic tiling scheme (level 0 has two 180° cells), so a tile's
address ``level/x/y`` does not move when buildings elsewhere change: that is what lets a rebuild
rewrite only the tiles whose buildings changed. A cell with more than ``max_features``
buildings keeps its ``max_features`` most *prominent* ones (the tallest or widest, what a city
view shows) and passes the rest to its four children (``refine: ADD``). A tile's geometric error
is the prominence of the largest building left to its descendants: the error a viewer makes by
not opening it. Leaves have error 0. A tile without content (above :data:`MIN_CONTENT_LEVEL`)
has at least the diagonal of its region: not opening it leaves the whole region empty, so a
viewer opens it whenever the region is in view, down to the first buildings (with only the
prominence, a district seen whole showed no building at all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

import shapely

from models3d.geodesy import M_PER_DEG

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from models3d.buildings import BuildingTable

#: The deepest level (about 2.4 m cells): identical centroids stop splitting there.
MAX_LEVEL = 22
#: The shallowest level that holds content (0.7° cells, about 78 km): glTF positions are
#: float32, which keeps millimetres within 50 km of a tile's centre but not across continents.
MIN_CONTENT_LEVEL = 8


@dataclass
class TileNode:
    """One tile: its cell, its content rows and its children.

    ``region`` is west, south, east, north (degrees), min and max height (m) of the content and
    every descendant.
    """

    level: int
    x: int
    y: int
    rows: NDArray[np.int64]
    children: list[TileNode] = field(default_factory=list)
    region: tuple[float, float, float, float, float, float] = (0, 0, 0, 0, 0, 0)
    geometric_error: float = 0.0

    @property
    def uri(self) -> str:
        """The content's path relative to tileset.json."""
        return f"tiles/{self.level}/{self.x}/{self.y}.glb"

    @property
    def has_content(self) -> bool:
        """Whether the tile holds buildings (tiles above :data:`MIN_CONTENT_LEVEL` do not)."""
        return len(self.rows) > 0

    def walk(self) -> list[TileNode]:
        """Return this tile and all its descendants, parents first."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


def prominence(table: BuildingTable) -> NDArray[np.float64]:
    """How far away a building still matters (m): the larger of its height and its width."""
    w, s, e, n = shapely.bounds(table.footprints).T
    width = np.maximum((e - w) * np.cos(np.radians((s + n) / 2)), n - s) * M_PER_DEG
    return np.asarray(np.maximum(table.height_m, width), dtype=np.float64)


def _cell_size(level: int) -> float:
    return 180.0 / (1 << level)


def _cell_of(
    lon: NDArray[np.float64], lat: NDArray[np.float64], level: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    size = _cell_size(level)
    x = np.floor((lon + 180.0) / size).astype(np.int64)
    y = np.floor((lat + 90.0) / size).astype(np.int64)
    return x, y


def _root_cell(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[int, int, int]:
    """Return the deepest cell holding every centroid."""
    level = 0
    while level < MAX_LEVEL:
        x, y = _cell_of(lon, lat, level + 1)
        if x.min() != x.max() or y.min() != y.max():
            break
        level += 1
    x, y = _cell_of(lon[:1], lat[:1], level)
    return level, int(x[0]), int(y[0])


def plan(table: BuildingTable, max_features: int = 1000) -> TileNode:
    """Lay buildings out in the quadtree (see the module's description).

    Parameters
    ----------
    table
        The buildings (at least one).
    max_features
        Most buildings in one tile's content.

    Returns
    -------
    TileNode
        The root tile, with regions and geometric errors filled in.
    """
    centroids = shapely.get_coordinates(shapely.point_on_surface(table.footprints))
    lon, lat = centroids[:, 0], centroids[:, 1]
    weight = prominence(table)
    level, x, y = _root_cell(lon, lat)
    root = _split(np.arange(len(table)), level, x, y, lon, lat, weight, max_features)
    _fill(root, table, weight)
    return root


def _split(
    rows: NDArray[np.int64],
    level: int,
    x: int,
    y: int,
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    weight: NDArray[np.float64],
    max_features: int,
) -> TileNode:
    if level >= MIN_CONTENT_LEVEL and (len(rows) <= max_features or level >= MAX_LEVEL):
        return TileNode(level, x, y, np.sort(rows))
    order = rows[np.lexsort((rows, -weight[rows]))]
    cut = max_features if level >= MIN_CONTENT_LEVEL else 0
    keep, rest = order[:cut], order[cut:]
    node = TileNode(level, x, y, np.sort(keep))
    cx, cy = _cell_of(lon[rest], lat[rest], level + 1)
    for qx, qy in sorted(set(zip(cx.tolist(), cy.tolist(), strict=True))):
        sub = rest[(cx == qx) & (cy == qy)]
        node.children.append(_split(sub, level + 1, qx, qy, lon, lat, weight, max_features))
    return node


def _fill(node: TileNode, table: BuildingTable, weight: NDArray[np.float64]) -> float:
    """Compute regions and errors bottom-up; return the subtree's largest prominence."""
    w, s, e, n, lo, hi = np.inf, np.inf, -np.inf, -np.inf, np.inf, -np.inf
    if len(node.rows):
        w, s, e, n = shapely.total_bounds(table.footprints[node.rows])
        lo = float(table.base_m[node.rows].min())
        hi = float((table.base_m + table.height_m)[node.rows].max())
    below = 0.0
    for child in node.children:
        below = max(below, _fill(child, table, weight))
        cw, cs, ce, cn, clo, chi = child.region
        w, s, e, n = min(w, cw), min(s, cs), max(e, ce), max(n, cn)
        lo, hi = min(lo, clo), max(hi, chi)
    node.region = (float(w), float(s), float(e), float(n), lo, hi)
    node.geometric_error = round(below if len(node.rows) else max(below, diagonal_m(node)), 2)
    return max(below, float(weight[node.rows].max(initial=0.0)))


def diagonal_m(node: TileNode) -> float:
    """Return the diagonal of a tile's region in metres (ground and height)."""
    w, s, e, n, lo, hi = node.region
    dx = (e - w) * M_PER_DEG * np.cos(np.radians((s + n) / 2))
    return float(np.sqrt(dx**2 + ((n - s) * M_PER_DEG) ** 2 + (hi - lo) ** 2))
