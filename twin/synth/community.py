"""One community's layout: grids, parcels, compounds with gates on roads, buildings, rooms.

Grids tile the community. Inside each grid, the land beside roads is cut into parcels along
the road lattice's direction; each parcel becomes a residential compound, an urban village,
an industrial park, offices, shops, a school or a clinic, with buildings on a lattice inside
it, so every building lies inside its parcel, grid, community, street and district.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

import shapely
import shapely.affinity
import shapely.ops
import shapely.prepared
from shapely import Point, Polygon

from twin.codes import building_code, grid_code
from twin.synth import names
from twin.synth.tessellate import as_multipolygon, tessellate

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from twin.synth.district import Road

#: Parcel kinds: weight, footprint (w, d) metres, gap, floors range, units, rooms per unit-floor.
KINDS: dict[
    str,
    tuple[
        float, tuple[float, float], float, tuple[int, int], tuple[int, int], tuple[int, int], str
    ],
] = {
    "residential": (0.22, (24.0, 32.0), 22.0, (25, 50), (1, 3), (2, 4), "residential"),
    "village": (0.42, (11.0, 13.0), 3.0, (4, 8), (1, 1), (2, 3), "residential"),
    "industrial": (0.13, (40.0, 70.0), 16.0, (3, 8), (1, 1), (1, 3), "industrial"),
    "office": (0.05, (32.0, 40.0), 25.0, (20, 40), (1, 1), (4, 8), "commercial"),
    "shops": (0.09, (15.0, 40.0), 8.0, (2, 4), (1, 1), (3, 6), "commercial"),
    "school": (0.05, (20.0, 60.0), 20.0, (4, 6), (1, 1), (2, 4), "public"),
    "clinic": (0.04, (25.0, 40.0), 15.0, (3, 8), (1, 1), (2, 4), "public"),
}
PARCEL_M = 180.0
ROAD_HALF_WIDTH_M = 12.0


@dataclass
class Building:
    """A generated building (metric footprint)."""

    code: str
    grid: str
    name: str
    footprint: Polygon
    floors: int
    height_m: float
    use: str
    compound: int
    units: int
    rooms_per_floor: int

    def rooms(self) -> list[tuple[int, str | None, str]]:
        """(floor, unit, room number) of every room: room number = floor × 100 + n."""
        out = []
        for floor in range(1, self.floors + 1):
            for unit in range(1, self.units + 1):
                for n in range(1, self.rooms_per_floor + 1):
                    out.append((floor, str(unit) if self.units > 1 else None, f"{floor * 100 + n}"))
        return out


@dataclass
class Compound:
    """A parcel with a name, a kind and a gate on a road."""

    name: str
    kind: str
    parcel: BaseGeometry
    grid: str
    gate: Point
    road: int
    door_no: int
    nickname: str
    buildings: list[Building] = field(default_factory=list)


@dataclass
class CommunityLayout:
    """Everything spatial in one community."""

    code: str
    grids: dict[str, BaseGeometry]
    compounds: list[Compound]

    @property
    def buildings(self) -> list[Building]:
        """All buildings in compound order."""
        return [b for c in self.compounds for b in c.buildings]


def door_number(road: Road, gate: Point) -> int:
    """Return a gate's door number by its position: odd on the left side, even on the right."""
    pos = road.line.project(gate)
    foot = road.line.interpolate(pos)
    # Numbers start where the road enters the district, one number pair per 20 m.
    parts = getattr(road.geom, "geoms", [road.geom])
    start = min(road.line.project(shapely.Point(part.coords[0])) for part in parts)
    pos = max(0.0, pos - start)
    (x0, y0), (x1, y1) = road.line.coords[0], road.line.coords[-1]
    cross = (x1 - x0) * (gate.y - foot.y) - (y1 - y0) * (gate.x - foot.x)
    base = 2 * int(pos // 20.0)
    return base + (1 if cross >= 0 else 2)


def _parcels(grid: BaseGeometry, roads_buffer: BaseGeometry, angle: float) -> list[Polygon]:
    buildable = grid.difference(roads_buffer).buffer(-4.0)
    if buildable.is_empty:
        return []
    cx, cy = grid.centroid.x, grid.centroid.y
    xmin, ymin, xmax, ymax = grid.bounds
    half = math.hypot(xmax - xmin, ymax - ymin) / 2 + PARCEL_M
    n = int(half // PARCEL_M) + 1
    cells = [
        shapely.box(i * PARCEL_M, j * PARCEL_M, (i + 1) * PARCEL_M, (j + 1) * PARCEL_M)
        for i in range(-n, n)
        for j in range(-n, n)
    ]
    lattice = shapely.affinity.rotate(shapely.GeometryCollection(cells), angle, origin=(0, 0))
    lattice = shapely.affinity.translate(lattice, cx, cy)
    out = []
    for cell in lattice.geoms:
        part = cell.intersection(buildable)
        for p in getattr(part, "geoms", [part]):
            if isinstance(p, Polygon) and p.area > 1500:
                out.append(p)
    return out


def _footprints(
    parcel: Polygon, size: tuple[float, float], gap: float, angle: float, rng: np.random.Generator
) -> list[Polygon]:
    w, d = size
    inner = parcel.buffer(-3.0)
    if inner.is_empty:
        return []
    theta = math.radians(angle)
    ux, uy, vx, vy = math.cos(theta), math.sin(theta), -math.sin(theta), math.cos(theta)
    cx, cy = parcel.centroid.x, parcel.centroid.y
    reach = math.hypot(parcel.bounds[2] - parcel.bounds[0], parcel.bounds[3] - parcel.bounds[1])
    step_u, step_v = w + gap, d + gap
    ks = np.arange(-int(reach // step_u) - 1, int(reach // step_u) + 2)
    ls = np.arange(-int(reach // step_v) - 1, int(reach // step_v) + 2)
    jitter = float(rng.uniform(0, 1))
    corners = np.array([(-w / 2, -d / 2), (w / 2, -d / 2), (w / 2, d / 2), (-w / 2, d / 2)])
    rings = []
    for k in ks:
        for m in ls:
            px = cx + ux * (k + jitter) * step_u + vx * m * step_v
            py = cy + uy * (k + jitter) * step_u + vy * m * step_v
            rings.append([(px + ux * a + vx * b, py + uy * a + vy * b) for a, b in corners])
    polys = shapely.polygons(np.array(rings))
    keep = shapely.contains(inner, polys)
    return [p for p, ok in zip(list(polys), list(keep), strict=True) if ok]  # type: ignore[arg-type]


def _pick_kind(rng: np.random.Generator) -> str:
    kinds = list(KINDS)
    weights = np.array([KINDS[k][0] for k in kinds])
    return kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]


def _compound_name(kind: str, rng: np.random.Generator, taken: set[str]) -> str:
    table: dict[str, tuple[tuple[str, ...] | list[str], tuple[str, ...]]] = {
        "residential": (names.COMPOUND_STEMS, names.COMPOUND_SUFFIXES),
        "village": (names.VILLAGE_STEMS, ("村", "新村", "老村")),
        "industrial": (names.COMPOUND_STEMS, names.PARK_SUFFIXES),
        "office": (names.COMPOUND_STEMS, ("大厦", "中心", "商务中心", "科技大厦")),
        "shops": (names.COMPOUND_STEMS, names.SHOP_SUFFIXES),
        "school": (names.ROAD_STEMS, names.SCHOOL_SUFFIXES),
        "clinic": (names.ROAD_STEMS, names.CLINIC_SUFFIXES),
    }
    stems, suffixes = table[kind]
    return names.unique_name(rng, stems, suffixes, taken)


def grids_for(
    community: str, outline: BaseGeometry, rooms_target: int, rng: np.random.Generator
) -> dict[str, BaseGeometry]:
    """Tile a community into base grids of about 500 housing units each (at most 99)."""
    n = min(99, max(1, math.ceil(rooms_target / 500)))
    cells = tessellate(outline, n, rng, relax=1)
    return {grid_code(community, i + 1): cell for i, cell in enumerate(cells)}


def _gate(
    parcel: Polygon, roads: list[Road], near: list[int], tree: shapely.STRtree
) -> tuple[Point, int]:
    centre = parcel.centroid
    road_idx = near[int(tree.nearest(centre))]
    line = roads[road_idx].line
    foot = line.interpolate(line.project(centre))
    gate = shapely.ops.nearest_points(parcel.exterior, foot)[0]
    return gate, road_idx


def _buildings(
    comp: Compound, footprints: list[Polygon], serials: dict[str, int], rng: np.random.Generator
) -> None:
    _, _, _, floors, units, rpf, use = KINDS[comp.kind]
    lettered = comp.kind in ("office", "residential") and rng.random() < 0.3
    for i, fp in enumerate(footprints):
        serials[comp.grid] += 1
        n_floors = int(rng.integers(floors[0], floors[1] + 1))
        if comp.kind == "residential" and rng.random() < 0.5:
            n_floors = int(rng.integers(7, 19))  # mid-rise blocks of older compounds
        label = f"{'ABCDEFGHJK'[i]}座" if lettered and i < 10 else f"{i + 1}栋"
        comp.buildings.append(
            Building(
                code=building_code(comp.grid, serials[comp.grid]),
                grid=comp.grid,
                name=label,
                footprint=fp,
                floors=n_floors,
                height_m=round(n_floors * float(rng.uniform(2.9, 3.3)), 1),
                use=use,
                compound=-1,
                units=int(rng.integers(units[0], units[1] + 1)),
                rooms_per_floor=int(rng.integers(rpf[0], rpf[1] + 1)),
            )
        )


def layout_community(
    code: str,
    outline: BaseGeometry,
    roads: list[Road],
    angle: float,
    buildings_target: int,
    rooms_target: int,
    rng: np.random.Generator,
) -> CommunityLayout:
    """Lay out one community (metric coordinates) for the given building and room targets."""
    grids = grids_for(code, outline, rooms_target, rng)
    reach = outline.buffer(400)
    near = [i for i, r in enumerate(roads) if r.geom.intersects(reach)]
    if not near:  # a community far from every lattice road still needs a road for its gates
        near = [int(np.argmin([r.geom.distance(outline) for r in roads]))]
    tree = shapely.STRtree([roads[i].line for i in near])
    roads_buffer = shapely.union_all([roads[i].geom.buffer(ROAD_HALF_WIDTH_M) for i in near])
    parcels = [(g, p) for g, cell in grids.items() for p in _parcels(cell, roads_buffer, angle)]
    compounds: list[Compound] = []
    serials = dict.fromkeys(grids, 0)
    taken: set[str] = set()
    budget = buildings_target
    for idx in rng.permutation(len(parcels)):
        if budget <= 0:
            break
        grid, parcel = parcels[int(idx)]
        kind = _pick_kind(rng)
        _, size, gap, *_ = KINDS[kind]
        footprints = _footprints(parcel, size, gap, angle, rng)[:budget]
        if not footprints:
            continue
        gate, road_idx = _gate(parcel, roads, near, tree)
        name = _compound_name(kind, rng, taken)
        comp = Compound(
            name=name,
            kind=kind,
            parcel=as_multipolygon(parcel),
            grid=grid,
            gate=gate,
            road=road_idx,
            door_no=door_number(roads[road_idx], gate),
            nickname=names.nickname(name, kind),
        )
        _buildings(comp, footprints, serials, rng)
        for b in comp.buildings:
            b.compound = len(compounds)
        compounds.append(comp)
        budget -= len(footprints)
    return CommunityLayout(code=code, grids=grids, compounds=compounds)
