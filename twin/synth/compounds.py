"""One community's layout: grids, parcels, compounds with gates on roads, and their buildings.

Grids tile the community. The land off the roads is cut into parcels of about
:data:`PARCEL_M` along the road direction, and every parcel is cut again by the grid
boundaries, so each parcel lies in one grid. Parcels are visited grid by grid in turn; each
becomes a residential compound (小区), an urban village, an industrial park, offices, shops, a
school or a clinic, with its buildings inside and its gate on a free door slot of a nearby
road, until the community's building budget is spent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

import shapely
import shapely.affinity
from shapely import MultiPolygon, Point, Polygon

from twin.codes import grid_code
from twin.synth import names
from twin.synth.buildings import KINDS, Building, footprints, make_buildings
from twin.synth.geometry import as_multipolygon, to_metric
from twin.synth.polygons import lonlat_scale, tessellate
from twin.synth.roads import DoorSlots, Road, door_slots

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shapely.geometry.base import BaseGeometry

#: Parcel size along and across the roads (metres).
PARCEL_M = 180.0
#: Land kept free beside the roads (beyond their half width) and inside grid boundaries (m).
SET_BACK_M = 4.0
GRID_INSET_M = 1.5
#: Parcels smaller than this (m²) stay empty: slivers along roads and boundaries.
MIN_PARCEL_M2 = 1500.0
#: Kinds that take more buildings per parcel when a dense community needs them, so many a
#: round.
DENSE_KINDS = ("village", "industrial", "shops", "residential")
#: Buildings per parcel the usual mix of kinds gives.
USUAL_PER_PARCEL = 6.0
FILL_STEP = 10
#: A gate prefers a door slot in its own grid: a slot elsewhere counts this much farther.
OTHER_GRID_PENALTY_M = 150.0


@dataclass
class Compound:
    """A parcel with a name, a kind, a gate on a road (if any is free) and its buildings."""

    serial: int
    name: str
    kind: str
    nickname: str
    old_name: str | None
    parcel: MultiPolygon
    grid: str
    gate: Point | None = None
    gate_grid: str | None = None
    road: int | None = None
    door_no: int | None = None
    buildings: list[Building] = field(default_factory=list)

    def row_id(self, community: str) -> int:
        """Return its ``twin.compound`` id: community code × 10,000 + serial (deterministic)."""
        return int(community) * 10_000 + self.serial


@dataclass
class CommunityLayout:
    """Everything spatial in one community: grids in WGS84, compounds in metric."""

    code: str
    grids: dict[str, MultiPolygon]
    compounds: list[Compound]

    @property
    def buildings(self) -> list[Building]:
        """All buildings, compound by compound."""
        return [b for c in self.compounds for b in c.buildings]


def make_grids(
    community: str, outline: BaseGeometry, n: int, rng: np.random.Generator
) -> dict[str, MultiPolygon]:
    """Tile a community (WGS84) into ``n`` base grids (two-digit serials 01-99), west to east."""
    aspect, sliver = lonlat_scale(outline)
    cells = tessellate(outline, min(99, max(1, n)), rng, relax=1, aspect=aspect, sliver=sliver)
    solid = [cell for cell in cells if not cell.is_empty]  # none, unless the outline is tiny
    return {grid_code(community, i + 1): cell for i, cell in enumerate(solid)}


def _lattice(outline: BaseGeometry, angle: float) -> np.ndarray:
    """Square cells of PARCEL_M covering the outline, rotated to the road direction."""
    cx, cy = outline.centroid.x, outline.centroid.y
    xmin, ymin, xmax, ymax = outline.bounds
    n = int(math.hypot(xmax - xmin, ymax - ymin) / 2 // PARCEL_M) + 1
    cells = [
        shapely.box(i * PARCEL_M, j * PARCEL_M, (i + 1) * PARCEL_M, (j + 1) * PARCEL_M)
        for i in range(-n, n)
        for j in range(-n, n)
    ]
    rotated = shapely.affinity.rotate(shapely.GeometryCollection(cells), angle, origin=(0, 0))
    moved = shapely.affinity.translate(rotated, cx, cy)
    return np.asarray(list(moved.geoms), dtype=object)


def parcels(
    grids: dict[str, BaseGeometry], roads_buffer: BaseGeometry, angle: float
) -> list[tuple[str, Polygon]]:
    """Return (grid code, parcel) pairs: the land off the roads, cut by the lattice and grids.

    ``roads_buffer`` is the roads with their set-back; parcels keep :data:`GRID_INSET_M` off
    the grid boundaries.
    """
    codes = sorted(grids)
    inner = shapely.buffer(np.asarray([grids[c] for c in codes], dtype=object), -GRID_INSET_M)
    land = shapely.difference(inner, roads_buffer)
    outline = shapely.union_all(np.asarray([grids[c] for c in codes], dtype=object))
    cells = _lattice(outline, angle)
    tree = shapely.STRtree(cells)
    grid_idx, cell_idx = tree.query(land, predicate="intersects")
    pieces = shapely.intersection(cells[cell_idx], land[grid_idx])
    out = []
    for g, piece in zip(grid_idx, pieces, strict=True):
        for p in getattr(piece, "geoms", [piece]):
            if isinstance(p, Polygon) and p.area > MIN_PARCEL_M2:
                out.append((codes[int(g)], p))
    return out


def _visit_order(plots: list[tuple[str, Polygon]], rng: np.random.Generator) -> list[int]:
    """Parcel indices, shuffled within each grid, the grids taking turns (in shuffled order)."""
    by_grid: dict[str, list[int]] = {}
    for i, (grid, _) in enumerate(plots):
        by_grid.setdefault(grid, []).append(i)
    queues = [[int(j) for j in rng.permutation(by_grid[g])] for g in sorted(by_grid)]
    queues = [queues[int(k)] for k in rng.permutation(len(queues))]
    order: list[int] = []
    for depth in range(max((len(q) for q in queues), default=0)):
        order.extend(q[depth] for q in queues if depth < len(q))
    return order


def _pick_kind(rng: np.random.Generator, crowding: float) -> str:
    """Pick a parcel's kind; in a crowded community (``crowding`` > 1) villages are likelier."""
    kinds = list(KINDS)
    weights = np.array([KINDS[k].weight * (crowding if k == "village" else 1) for k in kinds])
    return kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]


class _Gates:
    """Free door slots of a community and which grid each lies in."""

    def __init__(self, slots: DoorSlots, grids: dict[str, BaseGeometry]) -> None:
        self.slots = slots
        self.points = shapely.points(slots.x, slots.y) if len(slots) else np.array([])
        self.grid = np.full(len(slots), "", dtype=object)
        for code in sorted(grids, reverse=True):  # a point on a border goes to the lower code
            if len(slots):
                self.grid[shapely.intersects_xy(grids[code], slots.x, slots.y)] = code
        self.free = np.ones(len(slots), dtype=bool)

    def take(self, parcel: BaseGeometry, grid: str) -> int | None:
        """Take the free slot nearest the parcel (preferring its grid); its index, or None."""
        if not self.free.any():
            return None
        dist = shapely.distance(parcel, self.points) + np.where(
            self.grid == grid, 0.0, OTHER_GRID_PENALTY_M
        )
        dist[~self.free] = np.inf
        best = int(np.argmin(dist))
        self.free[best] = False
        return best


def _roads_near(roads: Sequence[Road], outline: BaseGeometry) -> list[int]:
    reach = outline.buffer(50)
    return [i for i, r in enumerate(roads) if r.geom.intersects(reach)]


def _site(
    grids: dict[str, MultiPolygon], roads: Sequence[Road], angle: float
) -> tuple[list[tuple[str, Polygon]], _Gates]:
    """Return the parcels of a community's grids and its free door slots (metric)."""
    metric = {c: to_metric(g) for c, g in grids.items()}
    outline = shapely.union_all(np.asarray(list(metric.values()), dtype=object))
    near = _roads_near(roads, outline)
    lines = np.asarray([roads[i].geom for i in near], dtype=object)
    widths = np.array([roads[i].half_width_m for i in near])
    carriageway = shapely.union_all(shapely.buffer(lines, widths))
    set_back = shapely.union_all(shapely.buffer(lines, widths + SET_BACK_M))
    slots = door_slots(roads, near, outline, carriageway)
    return parcels(metric, set_back, angle), _Gates(slots, metric)


def layout_community(
    code: str,
    local: str,
    grids: dict[str, MultiPolygon],
    roads: Sequence[Road],
    angle: float,
    budget: int,
    rng: np.random.Generator,
) -> CommunityLayout:
    """Lay out one community (metric) with about ``budget`` buildings.

    Parameters
    ----------
    code, local
        The community code and place name (for village, school and clinic names).
    grids
        Its base grids (WGS84; they tile it).
    roads
        The district's roads.
    angle
        The road lattice's direction (degrees).
    budget, rng
        How many buildings to place (fewer if the land runs out); the layout's stream.
    """
    plots, gates = _site(grids, roads, angle)
    compounds: list[Compound] = []
    serials = dict.fromkeys(grids, 0)
    taken: set[str] = set()
    spare: list[tuple[int, list[Polygon]]] = []
    # Above the buildings per parcel a usual mix gives, villages spread (squared: fast).
    crowding = min(16.0, max(1.0, budget / max(1, len(plots)) / USUAL_PER_PARCEL) ** 2)
    for idx in _visit_order(plots, rng):
        if budget <= 0 or len(compounds) >= 9_999:
            break
        grid, parcel = plots[idx]
        kind, fits = _fit(parcel, angle, crowding, rng)
        shapes = fits[: min(budget, KINDS[kind].cap)]
        if not shapes:
            continue
        comp = _compound(len(compounds) + 1, kind, local, parcel, grid, taken, rng)
        _open_gate(comp, gates)
        comp.buildings = make_buildings(kind, shapes, grid, serials[grid] + 1, len(compounds), rng)
        serials[grid] += len(shapes)
        if kind in DENSE_KINDS:
            spare.append((len(compounds), fits[len(shapes) :]))
        compounds.append(comp)
        budget -= len(shapes)
    _densify(compounds, spare, serials, budget, rng)
    return CommunityLayout(code=code, grids=grids, compounds=compounds)


def _fit(
    parcel: Polygon, angle: float, crowding: float, rng: np.random.Generator
) -> tuple[str, list[Polygon]]:
    """Pick a kind for a parcel and its footprints.

    A parcel too small or odd for the kind's buildings tries its smallest ones, then shops,
    then village houses (the smallest of all).
    """
    kind = _pick_kind(rng, crowding)
    spec = KINDS[kind]
    fits = footprints(parcel, spec, angle, rng)
    if not fits:
        small = replace(spec, width_m=(spec.width_m[0],) * 2, depth_m=(spec.depth_m[0],) * 2)
        fits = footprints(parcel, small, angle, rng)
    for fallback in ("shops", "village"):
        if not fits and kind != fallback:
            kind, fits = fallback, footprints(parcel, KINDS[fallback], angle, rng)
    return kind, fits


def _densify(
    compounds: list[Compound],
    spare: list[tuple[int, list[Polygon]]],
    serials: dict[str, int],
    budget: int,
    rng: np.random.Generator,
) -> None:
    """Spend a budget the parcels could not take on the spare room of villages, parks, shops.

    A dense community (Bao'an at full density) needs more buildings than the usual number per
    parcel: its villages and industrial parks fill up, :data:`FILL_STEP` buildings per round.
    """
    while budget > 0 and any(extra for _, extra in spare):
        for index, extra in spare:
            take = extra[: min(FILL_STEP, budget)]
            if not take:
                continue
            del extra[: len(take)]
            comp = compounds[index]
            first = serials[comp.grid] + 1
            comp.buildings += make_buildings(
                comp.kind, take, comp.grid, first, index, rng, start=len(comp.buildings)
            )
            serials[comp.grid] += len(take)
            budget -= len(take)


def _compound(
    serial: int,
    kind: str,
    local: str,
    parcel: Polygon,
    grid: str,
    taken: set[str],
    rng: np.random.Generator,
) -> Compound:
    name = names.compound_name(rng, kind, local, taken)
    old = names.old_compound_name(rng, name, kind) if rng.random() < 0.2 else None
    return Compound(
        serial=serial,
        name=name,
        kind=kind,
        nickname=names.nickname(name, kind),
        old_name=old if old != name else None,
        parcel=as_multipolygon(parcel),
        grid=grid,
    )


def _open_gate(comp: Compound, gates: _Gates) -> None:
    slot = gates.take(comp.parcel, comp.grid)
    if slot is None:
        return  # no free door on any road near: the compound is addressed by its name
    comp.gate = Point(gates.slots.x[slot], gates.slots.y[slot])
    comp.gate_grid = str(gates.grid[slot]) or comp.grid
    comp.road = int(gates.slots.road[slot])
    comp.door_no = int(gates.slots.number[slot])
