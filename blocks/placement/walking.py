"""Walking distances over the road network: a graph of road centre lines, Dijkstra on it.

The roads (``twin.road``, EPSG:4326) are noded where they cross, cut into pieces of at most
:data:`STEP_M` metres in EPSG:4547 (so that a point's nearest node is within ``STEP_M / 2`` of
its nearest road point), and their vertices become the nodes of an undirected graph whose edges
weigh their length in metres. A walk from a building to a facility is three legs: straight
from the footprint to its nearest node, along the roads to the facility's nearest node
(shortest path: ``scipy.sparse.csgraph.dijkstra``), straight from that node to the facility.
By the triangle inequality a walk is never shorter than the straight line between the two
shapes; where the road network has no link (a river, a wall, a missing road) the walk goes
round. The graph is built once per state of the road table (:func:`road_graph`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

import shapely

from blocks.errors import PlacementInputError
from twin.crs import to_metric

if TYPE_CHECKING:
    import psycopg
    from numpy.typing import NDArray

#: Longest road piece between two nodes (metres).
STEP_M = 25.0
#: Node coordinates are merged at this precision (metres): where roads meet, they share nodes.
_GRID_M = 0.01
_CACHE: dict[tuple[Any, ...], RoadGraph] = {}


def metric(geom: Any) -> Any:
    """Return a lon/lat geometry in EPSG:4547 metres."""
    return shapely.transform(geom, lambda c: np.column_stack(to_metric(c[:, 0], c[:, 1])))


@dataclass(frozen=True)
class RoadGraph:
    """Road nodes (EPSG:4547 metres) and the sparse matrix of road pieces between them."""

    nodes: NDArray[Any]
    edges: Any  # scipy.sparse.csr_matrix, symmetric, lengths in metres
    tree: shapely.STRtree

    @classmethod
    def from_lines(cls, lines_m: Any) -> RoadGraph:
        """Build the graph of metric road lines (noded where they cross).

        Examples
        --------
        >>> g = RoadGraph.from_lines(shapely.MultiLineString([[(0, 0), (100, 0)],
        ...                                                   [(50, -50), (50, 50)]]))
        >>> float(g.walk([shapely.Point(0, 1)], [shapely.Point(50, 49)])[0, 0])
        102.0
        """
        from scipy.sparse import coo_matrix

        noded = shapely.segmentize(shapely.union_all(shapely.get_parts(lines_m)), STEP_M)
        pieces = [np.asarray(p.coords) for p in shapely.get_parts(noded) if not p.is_empty]
        if not pieces:
            raise PlacementInputError("no road to walk on: twin.road is empty")
        a = np.concatenate([c[:-1] for c in pieces])
        b = np.concatenate([c[1:] for c in pieces])
        keys = np.round(np.concatenate([a, b]) / _GRID_M).astype(np.int64)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        src, dst = inverse[: len(a)], inverse[len(a) :]
        length = np.hypot(*(a - b).T)
        keep = src != dst
        n = len(uniq)
        edges = coo_matrix(
            (np.concatenate([length[keep]] * 2),
             (np.concatenate([src[keep], dst[keep]]), np.concatenate([dst[keep], src[keep]]))),
            shape=(n, n),
        ).tocsr()  # fmt: skip
        nodes = uniq * _GRID_M
        points: NDArray[Any] = np.asarray(shapely.points(nodes))
        return cls(nodes, edges, shapely.STRtree(points))

    def snap(self, geoms_m: list[Any]) -> tuple[NDArray[np.int64], NDArray[Any]]:
        """Return each shape's nearest node and the straight leg to it (metres)."""
        node = self.tree.query_nearest(geoms_m, all_matches=False)[1]
        leg = shapely.distance(np.asarray(geoms_m, dtype=object), shapely.points(self.nodes[node]))
        return node, np.asarray(leg, dtype=np.float64)

    def nearest_walk(
        self, sources_m: list[Any], targets_m: list[Any], limit: float = np.inf
    ) -> NDArray[Any]:
        """Return each target's walk to its nearest source (metres; inf: none within ``limit``).

        One Dijkstra from a virtual node joined to every source's node by the source's leg.
        """
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import dijkstra

        if not sources_m or not targets_m:
            return np.full(len(targets_m), np.inf)
        s_node, s_leg = self.snap(sources_m)
        t_node, t_leg = self.snap(targets_m)
        n = self.edges.shape[0]
        best = np.full(n, np.inf)
        np.minimum.at(best, s_node, s_leg)
        start = np.flatnonzero(np.isfinite(best))
        # A virtual node n with an edge to each source node (directed: nothing walks back to
        # it); a zero leg is stored as 1e-9 m, since a sparse matrix drops explicit zeros.
        road = self.edges.tocoo()
        grown = coo_matrix(
            (np.concatenate([road.data, np.maximum(best[start], 1e-9)]),
             (np.concatenate([road.row, np.full(len(start), n)]),
              np.concatenate([road.col, start]))),
            shape=(n + 1, n + 1),
        ).tocsr()  # fmt: skip
        dist = dijkstra(grown, directed=True, indices=n, limit=limit)
        return np.asarray(dist[t_node] + t_leg, dtype=np.float64)

    def walk(self, sources_m: list[Any], targets_m: list[Any]) -> NDArray[Any]:
        """Return the walk between every source and every target (metres; rows: sources)."""
        from scipy.sparse.csgraph import dijkstra

        s_node, s_leg = self.snap(sources_m)
        t_node, t_leg = self.snap(targets_m)
        dist = dijkstra(self.edges, directed=False, indices=s_node)
        return np.asarray(s_leg[:, None] + dist[:, t_node] + t_leg[None, :], dtype=np.float64)


def road_graph(conn: psycopg.Connection[Any]) -> RoadGraph:
    """Return the graph of every road, built once per state of ``twin.road``."""
    key = conn.execute("SELECT count(*), max(id), max(updated_at) FROM twin.road").fetchone()
    assert key is not None
    cached = _CACHE.get(tuple(key))
    if cached is None:
        rows = conn.execute("SELECT ST_AsBinary(geom) FROM twin.road").fetchall()
        lines = shapely.from_wkb([r[0] for r in rows])
        cached = RoadGraph.from_lines(metric(shapely.MultiLineString(
            [list(p.coords) for g in lines for p in shapely.get_parts(g)])))  # fmt: skip
        _CACHE.clear()
        _CACHE[tuple(key)] = cached
    return cached
