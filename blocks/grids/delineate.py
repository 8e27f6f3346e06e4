"""Partition a community's buildings into grids under limits (pure: arrays in, groups out).

Recursive bisection: the number of grids needed is at least ``ceil(units / max_units)`` and
``ceil(residents / max_residents)``; a piece of the community is cut across its longer side
(on the ground) at the buildings' weighted quantile that leaves each side its share of grids
(the weight of a building is its load, the larger of its units and residents as fractions of
the limits), and each side is cut again, until every group fits the limits. Cuts across the
longer side keep the pieces compact; a building is never split (a single building over the
limits is a grid of its own, reported as such).
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
    """A community's buildings: metric and lon/lat points, housing units and residents."""

    xy: NDArray[Any]
    lonlat: NDArray[Any]
    units: NDArray[Any]
    residents: NDArray[Any]

    def weight(self, limits: Limits) -> NDArray[Any]:
        """Each building's load: the larger of its units and residents as shares of a grid."""
        load = np.maximum(self.units / limits.max_units, self.residents / limits.max_residents)
        return np.maximum(load, _EMPTY_WEIGHT)


def partition(
    b: Buildings, limits: Limits, region: Any = None
) -> list[tuple[NDArray[np.int64], Any]]:
    """Group buildings; return index groups, each with its piece of ``region`` (lon/lat).

    Each cut is a straight line (a meridian or a parallel) half-way between the last
    building of one side and the first of the other; ``region`` (the community outline) is
    cut along the same lines, so the pieces tile it. A building whose footprint crosses a
    line is not cut: the caller gives footprints to their own group's piece.

    Examples
    --------
    >>> xy = np.array([[0, 0], [10, 0], [1000, 0], [1010, 0]], dtype=float)
    >>> b = Buildings(xy, xy / 1e5, np.array([300, 100, 300, 100]), np.zeros(4))
    >>> sorted(sorted(g.tolist()) for g, _ in partition(b, Limits()))
    [[0, 1], [2, 3]]
    """
    if not len(b.xy):
        return []
    k = limits.needed(float(b.units.sum()), float(b.residents.sum()))
    return _split(np.arange(len(b.xy)), k, b, b.weight(limits), limits, region)


def _halves(region: Any, axis: int, at: float) -> tuple[Any, Any]:
    if region is None:
        return None, None
    w, s, e, n = region.bounds
    lo = (w - 1, s - 1, at, n + 1) if axis == 0 else (w - 1, s - 1, e + 1, at)
    hi = (at, s - 1, e + 1, n + 1) if axis == 0 else (w - 1, at, e + 1, n + 1)
    return shapely.clip_by_rect(region, *lo), shapely.clip_by_rect(region, *hi)


def _long_axis(b: Buildings, idx: NDArray[np.int64], region: Any) -> int:
    """Return the axis (0: east-west, 1: north-south) along which the piece is longer.

    The piece of land when known (so that land pieces stay compact), else the buildings.
    """
    if region is not None and not region.is_empty:
        w, s, e, n = region.bounds
        return 0 if (e - w) * math.cos(math.radians((s + n) / 2)) >= (n - s) else 1
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
    if k <= 1:
        if len(idx) == 1 or limits.fits(float(b.units[idx].sum()), float(b.residents[idx].sum())):
            return [(idx, region)]
        k = 2
    axis = _long_axis(b, idx, region)
    order = idx[np.lexsort((b.lonlat[idx, 1 - axis], b.lonlat[idx, axis]))]
    share = np.cumsum(weight[order]) / weight[order].sum()
    k1 = k // 2
    cut = int(np.searchsorted(share, k1 / k)) + 1
    cut = min(max(cut, 1), len(order) - 1)
    at = float(b.lonlat[order[cut - 1], axis] + b.lonlat[order[cut], axis]) / 2
    low, high = _halves(region, axis, at)
    return _split(order[:cut], k1, b, weight, limits, low) + _split(
        order[cut:], k - k1, b, weight, limits, high
    )
