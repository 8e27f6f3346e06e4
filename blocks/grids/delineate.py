"""Partition a community's buildings into grids under limits (pure: arrays in, groups out).

The work happens in a planar frame (metres, turned so that the roads run along its axes:
:class:`Frame`). The community is first cut along its roads' centre lines into road blocks
(:func:`road_faces`; slivers between a road and the community's edge join their neighbour);
road blocks are the atoms of the partition, so grid boundaries run along roads where roads
exist. Recursive bisection then groups them: the number of grids needed is at
least ``ceil(units / max_units)`` and ``ceil(residents / max_residents)``; a set of atoms is
cut across its longer side at the weighted quantile that leaves each side its share of grids
(the weight of an atom is its load, the larger of its units and residents as fractions of the
limits), and each side is cut again, until every group fits the limits. Only a single road
block over the limits is cut inside, by the same bisection over its buildings along straight
lines parallel to the roads. A building is never split (a single building over the limits is a
grid of its own, reported as such); road blocks without buildings join the neighbouring grid
with which they share the longest border. Last, neighbouring groups whose totals fit together
merge (the most compact union first), since cuts at whole road blocks may leave more grids
than the limits need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

import shapely

if TYPE_CHECKING:
    from numpy.typing import NDArray

#: The default limits of a comprehensive grid.
MAX_UNITS, MAX_RESIDENTS = 500, 1_000
#: The weight of a building with nobody and no units, so that empty buildings spread too.
_EMPTY_WEIGHT = 1e-3
#: Road blocks thinner (Polsby-Popper) or smaller (share of the median) than this are slivers.
_SLIVER_COMPACTNESS, _SLIVER_SHARE = 0.2, 0.15
#: How far (share of the weight) a straight cut may move from its target to find a gap.
_CUT_SLACK = 0.1
#: Metres per degree of latitude (and of longitude at the equator), for the local frame.
_M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class Limits:
    """At most this many housing units and residents per grid."""

    max_units: int = MAX_UNITS
    max_residents: int = MAX_RESIDENTS

    def fits(self, units: float, residents: float) -> bool:
        """Whether a grid of these totals keeps to the limits."""
        return units <= self.max_units and residents <= self.max_residents

    def needed(self, units: float, residents: float) -> int:
        """Return the fewest grids the totals allow.

        Examples
        --------
        >>> Limits().needed(1200, 800), Limits().needed(100, 2500)
        (3, 3)
        """
        return max(1, math.ceil(units / self.max_units), math.ceil(residents / self.max_residents))


@dataclass(frozen=True)
class Buildings:
    """A community's buildings: planar points (metres), housing units and residents.

    ``bounds`` (optional, one row ``minx, miny, maxx, maxy`` per building) lets straight cuts
    pass between footprints rather than between points.
    """

    xy: NDArray[Any]
    units: NDArray[Any]
    residents: NDArray[Any]
    bounds: NDArray[Any] | None = None

    def subset(self, idx: NDArray[np.int64]) -> Buildings:
        """Return the buildings at ``idx``."""
        bounds = None if self.bounds is None else self.bounds[idx]
        return Buildings(self.xy[idx], self.units[idx], self.residents[idx], bounds)

    def weight(self, limits: Limits) -> NDArray[Any]:
        """Each building's load: the larger of its units and residents as shares of a grid."""
        load = np.maximum(self.units / limits.max_units, self.residents / limits.max_residents)
        return np.maximum(load, _EMPTY_WEIGHT)


@dataclass(frozen=True)
class Frame:
    """A local planar frame: metres east and north of an origin, turned by ``angle`` (rad).

    An affine map of lon/lat (equirectangular at the origin's latitude, then a rotation), so
    a round trip is exact to the last bits and shared vertices stay shared.

    Examples
    --------
    >>> f = Frame(114.0, 22.5, math.radians(30))
    >>> x, y = f.forward(np.array([114.01]), np.array([22.51]))
    >>> lon, lat = f.inverse(x, y)
    >>> bool(abs(lon[0] - 114.01) < 1e-12 and abs(lat[0] - 22.51) < 1e-12)
    True
    """

    lon0: float
    lat0: float
    angle: float = 0.0

    def forward(self, lon: NDArray[Any], lat: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
        """Lon/lat (degrees) to frame metres."""
        e = (lon - self.lon0) * _M_PER_DEG * math.cos(math.radians(self.lat0))
        n = (lat - self.lat0) * _M_PER_DEG
        c, s = math.cos(self.angle), math.sin(self.angle)
        return e * c + n * s, -e * s + n * c

    def inverse(self, x: NDArray[Any], y: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
        """Frame metres to lon/lat (degrees)."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        e, n = x * c - y * s, x * s + y * c
        return (self.lon0 + e / (_M_PER_DEG * math.cos(math.radians(self.lat0))),
                self.lat0 + n / _M_PER_DEG)  # fmt: skip

    def to_plane(self, geom: Any) -> Any:
        """Return a lon/lat geometry in the frame."""
        return shapely.transform(geom, lambda c: np.column_stack(self.forward(c[:, 0], c[:, 1])))

    def to_lonlat(self, geom: Any) -> Any:
        """Return a frame geometry in lon/lat."""
        return shapely.transform(geom, lambda c: np.column_stack(self.inverse(c[:, 0], c[:, 1])))


def road_angle(lines: Any) -> float:
    """Return the main direction of planar road lines, modulo 90° (radians, in [0, π/2)).

    The length-weighted circular mean of the segments' angles taken four times, so that a
    lattice's two directions count as one.

    Examples
    --------
    >>> lines = shapely.MultiLineString([[(0, 0), (10, 10)], [(0, 10), (10, 0)]])
    >>> round(math.degrees(road_angle(lines)), 6)
    45.0
    """
    coords = [np.asarray(p.coords) for p in shapely.get_parts(lines) if not p.is_empty]
    if not coords:
        return 0.0
    d = np.concatenate([np.diff(c, axis=0) for c in coords])
    length, theta = np.hypot(d[:, 0], d[:, 1]), np.arctan2(d[:, 1], d[:, 0])
    mean = math.atan2(float((length * np.sin(4 * theta)).sum()),
                      float((length * np.cos(4 * theta)).sum())) / 4  # fmt: skip
    return mean % (math.pi / 2)


def road_faces(region: Any, roads: Any) -> list[Any]:
    """Cut a planar region along road centre lines: the road blocks, which tile the region.

    Roads that end inside a block (dead ends) do not cut it.

    Examples
    --------
    >>> square = shapely.box(0, 0, 10, 10)
    >>> cross = shapely.MultiLineString([[(5, -1), (5, 11)], [(-1, 5), (11, 5)]])
    >>> sorted(round(f.area) for f in road_faces(square, cross))
    [25, 25, 25, 25]
    """
    inside = shapely.intersection(roads, region) if roads is not None else None
    lines = [region.boundary] + ([] if inside is None or inside.is_empty else [inside])
    # Slivers between a road and the community's edge join their neighbour.
    noded = shapely.union_all(lines)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    return _merge_slivers([f for f in faces
                           if f.area > 0 and region.contains(f.point_on_surface())])  # fmt: skip


def _compact(geom: Any) -> float:
    """Polsby-Popper score of a planar shape (1 for a circle)."""
    return float(4 * math.pi * geom.area / geom.length**2) if geom.length else 0.0


def _border(a: Any, b: Any) -> float:
    return float(shapely.length(shapely.intersection(a.boundary, b.boundary)))


def _merge_slivers(faces: list[Any]) -> list[Any]:
    """Merge slivers (a road close to the community's edge) into their longest neighbour.

    A sliver is thin (Polsby-Popper below :data:`_SLIVER_COMPACTNESS`) or small (below
    :data:`_SLIVER_SHARE` of the median road block).
    """
    faces = list(faces)
    while len(faces) > 1:
        floor = _SLIVER_SHARE * float(np.median([f.area for f in faces]))
        slivers = sorted((f.area, i) for i, f in enumerate(faces)
                         if f.area < floor or _compact(f) < _SLIVER_COMPACTNESS)  # fmt: skip
        merged = False
        for _, i in slivers:
            length, j = max((_border(faces[i], g), j) for j, g in enumerate(faces) if j != i)
            if length > 0:
                faces[j] = shapely.union(faces[j], faces[i])
                del faces[i]
                merged = True
                break
        if not merged:
            break
    return faces


def partition(
    b: Buildings, limits: Limits, region: Any = None
) -> list[tuple[NDArray[np.int64], Any]]:
    """Group buildings by straight cuts; return index groups, each with its piece of ``region``.

    Each cut is a straight line along an axis of the frame, across the longer side of the
    piece, in the widest gap between the footprints of the two sides near the target share
    (else half-way between two points). ``region`` is cut along the same lines, or shared by
    nearness (each group takes the land nearer to its buildings than to others':
    :func:`_nearest_land`), whichever leaves the least compact piece more compact; the pieces
    tile ``region`` either way. A building whose footprint crosses a piece's edge is not cut:
    the caller gives footprints to their own group.

    Examples
    --------
    >>> xy = np.array([[0, 0], [10, 0], [1000, 0], [1010, 0]], dtype=float)
    >>> b = Buildings(xy, np.array([300, 100, 300, 100]), np.zeros(4))
    >>> sorted(sorted(g.tolist()) for g, _ in partition(b, Limits()))
    [[0, 1], [2, 3]]
    """
    if not len(b.xy):
        return []
    k = limits.needed(float(b.units.sum()), float(b.residents.sum()))
    groups = _split(np.arange(len(b.xy)), k, b, b.weight(limits), limits, region)
    if region is None or len(groups) < 2:
        return groups
    near = _nearest_land([g for g, _ in groups], b.xy, region)
    return max((groups, near), key=_least_compact)


def _least_compact(groups: list[tuple[NDArray[np.int64], Any]]) -> float:
    """Return the lowest Polsby-Popper score of the pieces (0 for an empty one)."""
    return min(_compact(p) if p is not None and not p.is_empty else 0.0 for _, p in groups)


def _nearest_land(
    groups: list[NDArray[np.int64]], xy: NDArray[Any], region: Any
) -> list[tuple[NDArray[np.int64], Any]]:
    """Give each group the land nearer to its buildings than to any other (Voronoi cells).

    Straight cuts across a whole road block leave long thin strips where buildings cluster;
    the cells of a group's buildings make a compact piece around them instead, and the
    pieces still tile ``region``.
    """
    keys, first = np.unique(np.round(xy, 3), axis=0, return_index=True)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(keys),
                                                       extend_to=region, ordered=True))  # fmt: skip
    owner = np.empty(len(xy), dtype=np.int64)
    for g, members in enumerate(groups):
        owner[members] = g
    cell_owner = owner[first]  # a point shared by two groups goes to the first building's
    out = []
    for g, members in enumerate(groups):
        land = shapely.union_all(cells[cell_owner == g]) if (cell_owner == g).any() else None
        piece = shapely.intersection(land, region) if land is not None else shapely.Polygon()
        out.append((members, piece))
    return out


def partition_faces(
    b: Buildings, limits: Limits, faces: list[Any]
) -> list[tuple[NDArray[np.int64], Any]]:
    """Group buildings by road blocks (``faces``); return index groups with their pieces.

    The pieces tile the union of ``faces``; a piece is a union of whole road blocks, except
    where a single road block over the limits had to be cut by :func:`partition`.

    Examples
    --------
    >>> faces = [shapely.box(i * 10, 0, i * 10 + 10, 10) for i in range(4)]
    >>> xy = np.array([[5, 5], [15, 5], [35, 5]], dtype=float)
    >>> b = Buildings(xy, np.array([300, 150, 300]), np.zeros(3))
    >>> [(g.tolist(), p.area) for g, p in partition_faces(b, Limits(), faces)]
    [([0, 1], 200.0), ([2], 200.0)]
    """
    if not len(b.xy):
        return []
    tree = shapely.STRtree(faces)
    points = shapely.points(b.xy)
    face_of = tree.query_nearest(points, all_matches=False)[1]
    occupied = np.unique(face_of)
    members = [np.flatnonzero(face_of == f) for f in occupied]
    atoms = Buildings(
        np.array([faces[f].centroid.coords[0] for f in occupied], dtype=np.float64),
        np.array([b.units[m].sum() for m in members], dtype=np.float64),
        np.array([b.residents[m].sum() for m in members], dtype=np.float64),
    )
    k = limits.needed(float(b.units.sum()), float(b.residents.sum()))
    out: list[tuple[NDArray[np.int64], Any]] = []
    for group, _ in _split(np.arange(len(occupied)), k, atoms, atoms.weight(limits), limits, None):
        idx = np.concatenate([members[a] for a in group])
        if len(group) == 1 and not limits.fits(float(b.units[idx].sum()),
                                               float(b.residents[idx].sum())):  # fmt: skip
            inner = b.subset(idx)
            out += [(idx[g], p) for g, p in partition(inner, limits, faces[occupied[group[0]]])]
        else:
            out.append((idx, shapely.union_all([faces[occupied[a]] for a in group])))
    empty = [f for i, f in enumerate(faces) if i not in set(occupied.tolist())]
    return _merge_groups(_attach(out, empty), b, limits)


def _merge_groups(
    groups: list[tuple[NDArray[np.int64], Any]], b: Buildings, limits: Limits
) -> list[tuple[NDArray[np.int64], Any]]:
    """Merge neighbouring groups whose totals fit together, the most compact union first.

    Bisection at whole road blocks may leave more grids than the limits need; merging
    neighbours (sharing a border) keeps grids contiguous and brings their number down.
    """
    groups = list(groups)
    while True:
        best: tuple[float, int, int, Any] | None = None
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                idx = np.concatenate([groups[i][0], groups[j][0]])
                if not limits.fits(float(b.units[idx].sum()), float(b.residents[idx].sum())):
                    continue
                if _border(groups[i][1], groups[j][1]) <= 0:
                    continue
                union = shapely.union(groups[i][1], groups[j][1])
                if best is None or _compact(union) > best[0]:
                    best = (_compact(union), i, j, union)
        if best is None:
            return groups
        _, i, j, union = best
        groups[i] = (np.sort(np.concatenate([groups[i][0], groups[j][0]])), union)
        del groups[j]


def _attach(
    groups: list[tuple[NDArray[np.int64], Any]], empty: list[Any]
) -> list[tuple[NDArray[np.int64], Any]]:
    """Give each empty road block to the piece it shares the longest border with."""
    pieces = [p for _, p in groups]
    while empty:
        borders = [(shapely.length(shapely.intersection(f.boundary, p.boundary)), -i, j, i)
                   for i, f in enumerate(empty) for j, p in enumerate(pieces)]  # fmt: skip
        length, _, j, i = max(borders)
        if length <= 0:  # isolated from every piece: the nearest one takes it
            i, j = 0, int(np.argmin([shapely.distance(empty[0], p) for p in pieces]))
        pieces[j] = shapely.union(pieces[j], empty.pop(i))
    return [(g, p) for (g, _), p in zip(groups, pieces, strict=True)]


def _halves(region: Any, axis: int, at: float) -> tuple[Any, Any]:
    if region is None:
        return None, None
    w, s, e, n = region.bounds
    lo = (w - 1, s - 1, at, n + 1) if axis == 0 else (w - 1, s - 1, e + 1, at)
    hi = (at, s - 1, e + 1, n + 1) if axis == 0 else (w - 1, at, e + 1, n + 1)
    return shapely.clip_by_rect(region, *lo), shapely.clip_by_rect(region, *hi)


def _long_axis(b: Buildings, idx: NDArray[np.int64], region: Any) -> int:
    """Return the axis (0: x, 1: y) along which the piece is longer.

    The piece of land when known (so that land pieces stay compact), else the points.
    """
    if region is not None and not region.is_empty:
        w, s, e, n = region.bounds
        return 0 if e - w >= n - s else 1
    span = b.xy[idx].max(axis=0) - b.xy[idx].min(axis=0)
    return int(np.argmax(span))


def _split(
    idx: NDArray[np.int64],
    k: int,
    b: Buildings,
    weight: NDArray[Any],
    limits: Limits,
    region: Any,
) -> list[tuple[NDArray[np.int64], Any]]:
    if len(idx) == 1:
        return [(idx, region)]
    if k <= 1:
        if limits.fits(float(b.units[idx].sum()), float(b.residents[idx].sum())):
            return [(idx, region)]
        k = 2
    axis = _long_axis(b, idx, region)
    order = idx[np.lexsort((b.xy[idx, 1 - axis], b.xy[idx, axis]))]
    share = np.cumsum(weight[order]) / weight[order].sum()
    k1 = k // 2
    cut = int(np.searchsorted(share, k1 / k)) + 1
    cut = min(max(cut, 1), len(order) - 1)
    cut, at = _cut_at(b, order, share, cut, k1 / k, axis)
    low, high = _halves(region, axis, at)
    return _split(order[:cut], k1, b, weight, limits, low) + _split(
        order[cut:], k - k1, b, weight, limits, high
    )


def _cut_at(
    b: Buildings,
    order: NDArray[np.int64],
    share: NDArray[Any],
    cut: int,
    target: float,
    axis: int,
) -> tuple[int, float]:
    """Return where to cut ``order`` (an index) and the line's coordinate on ``axis``.

    Where footprints are known, the cut moves (within :data:`_CUT_SLACK` of the target share)
    to the widest gap between the footprints of the two sides, so that the line cuts no
    building and each side's land holds its buildings; else half-way between two points.
    """
    midway = float(b.xy[order[cut - 1], axis] + b.xy[order[cut], axis]) / 2
    if b.bounds is None:
        return cut, midway
    hi = np.maximum.accumulate(b.bounds[order, axis + 2])  # the left side's far edge
    lo = np.minimum.accumulate(b.bounds[order, axis][::-1])[::-1]  # the right side's near edge
    gaps = lo[1:] - hi[:-1]  # gaps[c - 1]: cutting before position c
    allowed = np.flatnonzero(np.abs(share[:-1] - target) <= _CUT_SLACK) + 1
    allowed = allowed[gaps[allowed - 1] > 0]
    if not len(allowed):
        return cut, midway
    best = int(allowed[np.argmax(gaps[allowed - 1])])
    return best, float(hi[best - 1] + lo[best]) / 2
