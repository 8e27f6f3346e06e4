"""District-wide layout: street and community outlines, and the road network.

All geometry is computed in Shenzhen's metric CRS (EPSG:4547) and stored in WGS84.
Streets tile the district (streets of a functional area tile that area's part), communities
tile their street. Roads form a jittered lattice, rotated by a district angle, of main roads
(大道, every fourth line) and roads (路/街), clipped to the district.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import shapely
import shapely.affinity
import shapely.ops
import shapely.prepared
from shapely import LineString, MultiLineString

from twin.crs import WGS84, Crs, transform_geometry
from twin.synth.names import road_name
from twin.synth.rng import rng_for
from twin.synth.tessellate import as_multipolygon, tessellate

if TYPE_CHECKING:
    import numpy as np

    from shapely.geometry.base import BaseGeometry

METRIC = Crs("EPSG:4547", 4547, "epsg")
#: Spacing of the road lattice (metres) and the share of its lines that are main roads.
ROAD_SPACING_M = 450.0
MAIN_ROAD_EVERY = 4


@dataclass(frozen=True)
class Unit:
    """An administrative unit as the generator sees it."""

    code: str
    name: str
    parent: str | None
    functional_area: str | None = None


@dataclass(frozen=True)
class Road:
    """A generated road: its name, class and centre line (metric)."""

    name: str
    road_class: str
    line: LineString
    geom: BaseGeometry


def to_metric(geom: BaseGeometry) -> BaseGeometry:
    """WGS84 → EPSG:4547."""
    return transform_geometry(geom, WGS84, METRIC)


def to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    """EPSG:4547 → WGS84."""
    return transform_geometry(geom, METRIC, WGS84)


def fit_given_outlines(
    district: BaseGeometry, given: dict[str, BaseGeometry], streets: list[Unit]
) -> dict[str, BaseGeometry]:
    """Make given street outlines (metric) tile the district exactly.

    Each outline is clipped to the district; where two overlap, the street with the lower code
    keeps the overlap; every gap left goes to the street sharing the longest border with it.

    Raises
    ------
    ValueError
        Naming the streets the file has no outline for.
    """
    missing = sorted(s.code for s in streets if s.code not in given)
    if missing:
        raise ValueError(f"the streets file has no outline for {', '.join(missing)}")
    out: dict[str, BaseGeometry] = {}
    taken: BaseGeometry = shapely.Polygon()
    for s in sorted(streets, key=lambda u: u.code):
        part = as_multipolygon(given[s.code].intersection(district).difference(taken))
        out[s.code] = part
        taken = taken.union(part)
    gaps = as_multipolygon(district.difference(taken))
    for gap in gaps.geoms:
        best = max(out, key=lambda code: gap.boundary.intersection(out[code].boundary).length)
        out[best] = as_multipolygon(out[best].union(gap))
    return out


def street_outlines(
    district: BaseGeometry, streets: list[Unit], areas: dict[str, BaseGeometry], seed: int
) -> dict[str, BaseGeometry]:
    """Tile the district (metric) among its streets; a functional area's streets tile it."""
    out: dict[str, BaseGeometry] = {}
    rest = district
    groups: dict[str | None, list[Unit]] = {}
    for s in streets:
        groups.setdefault(s.functional_area if s.functional_area in areas else None, []).append(s)
    for area_code, members in sorted(groups.items(), key=lambda kv: kv[0] or ""):
        if area_code is None:
            continue
        part = as_multipolygon(district.intersection(areas[area_code]))
        rest = rest.difference(part)
        _assign(part, members, seed, out)
    _assign(as_multipolygon(rest), groups.get(None, []), seed, out)
    return out


def _assign(
    parent: BaseGeometry, units: list[Unit], seed: int, out: dict[str, BaseGeometry]
) -> None:
    if not units:
        return
    ordered = sorted(units, key=lambda u: u.code)
    rng = rng_for(seed, "tessellate", ordered[0].code, len(ordered))
    for unit, cell in zip(ordered, tessellate(parent, len(ordered), rng), strict=True):
        out[unit.code] = cell


def community_outlines(
    street: BaseGeometry, communities: list[Unit], seed: int
) -> dict[str, BaseGeometry]:
    """Tile a street (metric) among its communities."""
    out: dict[str, BaseGeometry] = {}
    _assign(street, communities, seed, out)
    return out


def _lattice_lines(
    district: BaseGeometry, angle: float, rng: np.random.Generator, offset_deg: float
) -> list[LineString]:
    cx, cy = district.centroid.x, district.centroid.y
    xmin, ymin, xmax, ymax = district.bounds
    half = math.hypot(xmax - xmin, ymax - ymin) / 2 + ROAD_SPACING_M
    theta = math.radians(angle + offset_deg)
    ux, uy = math.cos(theta), math.sin(theta)  # along the line
    nx, ny = -uy, ux  # across the lines
    lines = []
    steps = int(half // ROAD_SPACING_M)
    for k in range(-steps, steps + 1):
        d = k * ROAD_SPACING_M + float(rng.uniform(-60, 60))
        px, py = cx + nx * d, cy + ny * d
        lines.append(
            LineString([(px - ux * half, py - uy * half), (px + ux * half, py + uy * half)])
        )
    return lines


def road_network(district: BaseGeometry, district_code: str, seed: int) -> tuple[list[Road], float]:
    """Return the district's roads (metric), named uniquely, and the lattice angle (degrees)."""
    rng = rng_for(seed, "roads", district_code)
    angle = float(rng.uniform(-20, 20))
    taken: set[str] = set()
    roads: list[Road] = []
    prepared = shapely.prepared.prep(district)
    for direction in (0.0, 90.0):
        for i, line in enumerate(_lattice_lines(district, angle, rng, direction)):
            if not prepared.intersects(line):
                continue
            clipped = line.intersection(district)
            parts = [
                g
                for g in getattr(clipped, "geoms", [clipped])
                if isinstance(g, LineString) and g.length > 50
            ]
            if not parts:
                continue
            name, road_class = road_name(rng, taken)
            if i % MAIN_ROAD_EVERY == 0 and road_class == "路":
                taken.discard(name)
                name, road_class = name[:-1] + "大道", "大道"
                if name in taken:
                    name, road_class = road_name(rng, taken)
                taken.add(name)
            roads.append(Road(name, road_class, line, MultiLineString(parts)))
    return roads, angle
