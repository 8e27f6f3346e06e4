"""The road network of a district and the door plates (门牌) along each road.

Roads form a jittered lattice, rotated by a district angle and clipped to the district: every
fourth line is a main road (…大道), the others …路, …街 or …巷, named after the community they
run through, civic words, directions and numbers. Each road is numbered along its direction
from where it enters the district: one number pair per :data:`SLOT_M` metres, odd numbers on
the left side and even numbers on the right, so numbers are unique on a road and grow along
each side. A compound's gate takes a free door slot near it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

import shapely
from shapely import LineString, MultiLineString

from twin.synth.names import old_road_name, road_name
from twin.synth.rng import rng_for

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shapely.geometry.base import BaseGeometry

#: Spacing of the road lattice (metres) and the share of its lines that are main roads.
ROAD_SPACING_M = 450.0
MAIN_ROAD_EVERY = 4
#: Half the width of each road class (metres): the land kept free of parcels.
HALF_WIDTH_M = {"大道": 20.0, "路": 12.0, "街": 9.0, "巷": 5.0}
#: Road length per pair of door numbers (one odd, one even).
SLOT_M = 20.0
#: Share of roads with a former name.
OLD_NAME_SHARE = 0.25


@dataclass(frozen=True)
class Road:
    """A generated road (metric geometry).

    Attributes
    ----------
    id
        Its ``twin.road`` id: district code × 100,000 + serial (deterministic).
    serial
        1, 2, ... in the district.
    line
        The whole lattice line, oriented in the direction of numbering.
    geom
        The parts inside the district, oriented like ``line``.
    start
        Where numbering starts: the position along ``line`` where the road enters the district.
    spans
        The positions along ``line`` covered by each part.
    """

    id: int
    serial: int
    name: str
    road_class: str
    line: LineString
    geom: MultiLineString
    start: float
    spans: tuple[tuple[float, float], ...]
    old_name: str | None = None

    @property
    def half_width_m(self) -> float:
        """Half the road's width."""
        return HALF_WIDTH_M[self.road_class]


@dataclass(frozen=True)
class DoorSlots:
    """Door plate positions along roads, as arrays of equal length."""

    x: np.ndarray
    y: np.ndarray
    road: np.ndarray
    number: np.ndarray

    def __len__(self) -> int:
        return len(self.x)


def road_id(district: str, serial: int) -> int:
    """Return the deterministic ``twin.road`` id of a generated road.

    Examples
    --------
    >>> road_id("440306", 7)
    44030600007
    """
    return int(district) * 100_000 + serial


def _lattice_lines(
    district: BaseGeometry, angle: float, rng: np.random.Generator
) -> list[list[tuple[bool, LineString]]]:
    """Two families of parallel lines (along and across ``angle``), jittered, main every 4th."""
    cx, cy = district.centroid.x, district.centroid.y
    xmin, ymin, xmax, ymax = district.bounds
    half = math.hypot(xmax - xmin, ymax - ymin) / 2 + ROAD_SPACING_M
    steps = int(half // ROAD_SPACING_M)
    families = []
    for turn in (0.0, 90.0):
        theta = math.radians(angle + turn)
        ux, uy = math.cos(theta), math.sin(theta)  # along the lines
        nx, ny = -uy, ux  # across them
        lines = []
        for k in range(-steps, steps + 1):
            d = k * ROAD_SPACING_M + float(rng.uniform(-60, 60))
            px, py = cx + nx * d, cy + ny * d
            line = LineString([(px - ux * half, py - uy * half), (px + ux * half, py + uy * half)])
            lines.append((k % MAIN_ROAD_EVERY == 0, line))
        families.append(lines)
    return families


def _segments(
    line: LineString, crossings: list[float], main: bool, rng: np.random.Generator
) -> list[tuple[LineString, int]]:
    """Cut a lattice line at crossings into roads of 1-5 blocks (a main road stays whole).

    Returns (segment, blocks) pairs; roads change names where they are cut, as real ones do.
    """
    if main:
        return [(line, len(crossings) + 1)]
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    ux, uy = (x1 - x0) / line.length, (y1 - y0) / line.length
    cuts, i = [0.0], 0
    blocks = []
    while True:
        step = int(rng.integers(1, 6))
        i += step
        if i >= len(crossings):
            break
        cuts.append(crossings[i])
        blocks.append(step)
    cuts.append(line.length)
    blocks.append(len(crossings) + 1 - sum(blocks))
    return [
        (LineString([(x0 + ux * a, y0 + uy * a), (x0 + ux * b, y0 + uy * b)]), n)
        for a, b, n in zip(cuts[:-1], cuts[1:], blocks, strict=True)
    ]


def _clip(line: LineString, district: BaseGeometry) -> list[LineString]:
    """Return the parts of a line inside the district (over 50 m), oriented like the line."""
    clipped = line.intersection(district)
    parts = []
    for g in getattr(clipped, "geoms", [clipped]):
        if not isinstance(g, LineString) or g.length <= 50:
            continue
        a, b = line.project(shapely.Point(g.coords[0])), line.project(shapely.Point(g.coords[-1]))
        parts.append(g if a <= b else g.reverse())
    return sorted(parts, key=lambda g: line.project(shapely.Point(g.coords[0])))


def _pieces(
    district: BaseGeometry, angle: float, rng: np.random.Generator
) -> list[tuple[bool, int, LineString, list[LineString]]]:
    """Return (main, blocks, segment, parts inside the district) of every road to be."""
    families = _lattice_lines(district, angle, rng)
    out = []
    for mine, other in ((families[0], families[1]), (families[1], families[0])):
        others = np.asarray([o for _, o in other], dtype=object)
        for main, line in mine:
            hits = shapely.intersection(line, others)
            points = hits[shapely.get_type_id(hits) == 0]
            crossings = sorted(shapely.line_locate_point(line, points).tolist())
            for segment, blocks in _segments(line, crossings, main, rng):
                parts = _clip(segment, district)
                if parts:
                    out.append((main, blocks, segment, parts))
    return out


def road_network(
    district: BaseGeometry,
    district_code: str,
    seed: int,
    local_names: Sequence[tuple[BaseGeometry, str]],
    district_stems: Sequence[str],
    taken: set[str] | None = None,
) -> tuple[list[Road], float]:
    """Return the district's roads (metric), uniquely named, and the lattice angle (degrees).

    Parameters
    ----------
    district
        The district outline (metric).
    district_code
        Its 6-digit code.
    seed
        The run's seed.
    local_names
        (community outline, place name) pairs: a road is named after the place it runs through.
    district_stems
        Place names of the district and its streets, for main roads.
    taken
        Names already in use in the district (real roads): generated names avoid them.
    """
    rng = rng_for(seed, "roads", district_code)
    angle = float(rng.uniform(-20, 20))
    tree = shapely.STRtree([g for g, _ in local_names]) if local_names else None
    taken = set(taken or ())
    roads: list[Road] = []
    for main, blocks, line, parts in _pieces(district, angle, rng):
        local = _local_name(max(parts, key=lambda g: g.length), tree, local_names, district_stems)
        name, road_class = road_name(rng, local, district_stems, taken, main=main, lane=blocks == 1)
        spans = tuple(
            (line.project(shapely.Point(g.coords[0])), line.project(shapely.Point(g.coords[-1])))
            for g in parts
        )
        old = old_road_name(rng, name, road_class) if rng.random() < OLD_NAME_SHARE else None
        serial = len(roads) + 1
        roads.append(Road(
            road_id(district_code, serial), serial, name, road_class, line,
            MultiLineString(parts), spans[0][0], spans, old if old != name else None,
        ))  # fmt: skip
    return roads, angle


def _local_name(
    part: LineString,
    tree: shapely.STRtree | None,
    local_names: Sequence[tuple[BaseGeometry, str]],
    district_stems: Sequence[str],
) -> str:
    middle = part.interpolate(0.5, normalized=True)
    if tree is not None:
        hits = sorted(int(i) for i in tree.query(middle, predicate="intersects"))
        if hits:
            return local_names[hits[0]][1]
    return district_stems[0]


def door_slots(
    roads: Sequence[Road], indices: Sequence[int], area: BaseGeometry, keep_out: BaseGeometry
) -> DoorSlots:
    """Return the door slots of some roads that lie inside ``area`` and outside ``keep_out``.

    A slot sits at the road's edge; slot ``k`` of a road is ``SLOT_M / 2 + k × SLOT_M`` metres
    from where the road enters the district, numbered ``2k + 1`` on the left and ``2k + 2`` on
    the right. Slots are a function of the road only, so every community finds the same
    numbers, and each slot lies inside at most one community (interiors only).
    """
    xs, ys, rs, ns = [], [], [], []
    xmin, ymin, xmax, ymax = area.bounds
    corners = [shapely.Point(x, y) for x in (xmin, xmax) for y in (ymin, ymax)]
    for i in indices:
        road = roads[i]
        (x0, y0), (x1, y1) = road.line.coords[0], road.line.coords[-1]
        length = road.line.length
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        reach = [road.line.project(c) for c in corners]
        k_lo = max(0, math.floor((min(reach) - road.start) / SLOT_M) - 1)
        k_hi = math.ceil((max(reach) - road.start) / SLOT_M) + 1
        k = np.arange(k_lo, max(k_lo, k_hi))
        pos = road.start + SLOT_M / 2 + k * SLOT_M
        on_road = np.zeros(len(pos), dtype=bool)
        for a, b in road.spans:
            on_road |= (pos >= a) & (pos <= b)
        k, pos = k[on_road], pos[on_road]
        off = road.half_width_m + 2.0
        for side, parity in ((1.0, 1), (-1.0, 2)):
            xs.append(x0 + ux * pos - uy * off * side)
            ys.append(y0 + uy * pos + ux * off * side)
            rs.append(np.full(len(k), i))
            ns.append(2 * k + parity)
    if not xs:
        return DoorSlots(
            np.array([]), np.array([]), np.array([], dtype=int), np.array([], dtype=int)
        )
    x, y = np.concatenate(xs), np.concatenate(ys)
    shapely.prepare(area)
    shapely.prepare(keep_out)
    inside = shapely.contains_xy(area, x, y) & ~shapely.intersects_xy(keep_out, x, y)
    return DoorSlots(x[inside], y[inside], np.concatenate(rs)[inside], np.concatenate(ns)[inside])
