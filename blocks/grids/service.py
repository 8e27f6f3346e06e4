"""Delineate a community's grids and store the plan, keeping the codes of unchanged grids.

1. Read the community's buildings (a representative point, the footprint, housing units =
   rooms of residential buildings, residents = placed people), its outline, the centre
   lines of its roads, and its grids in force.
2. In a planar frame turned to the roads, the community is cut into road blocks along the
   roads, and :func:`~blocks.grids.delineate.partition_faces` groups whole road blocks under
   the limits (a road block over the limits alone is cut by straight lines parallel to the
   roads, half-way between two buildings).
3. Outlines: each group's land (its road blocks, or pieces of one), then each building's
   footprint given whole to its own grid and taken from the others, so no grid cuts a
   building. Grids tile the community: no gap, no overlap.
4. Codes, against the community's last plan (or, before the first, the grids in force): a
   group with exactly the buildings of a reference grid keeps that grid's code and outline
   (``unchanged``; when every grid is unchanged, the outlines in force stay too); otherwise
   a group takes the code of the reference grid it shares the
   most buildings with, if free (``changed``), else the first free two-digit serial
   (``new``).
5. The plan replaces the community's rows in ``twin.grid_plan``; a report per community.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

import shapely

from blocks.errors import PlacementInputError
from blocks.grids.delineate import (
    Buildings,
    Frame,
    Limits,
    partition,
    partition_faces,
    road_angle,
    road_faces,
)
from twin.crs import to_metric


@cache
def sql_text(name: str) -> str:
    """Return the text of ``blocks/grids/sql/<name>``."""
    return resources.files("blocks.grids").joinpath("sql", name).read_text(encoding="utf-8")


if TYPE_CHECKING:
    import psycopg
    from numpy.typing import NDArray


@dataclass
class GridReport:
    """What the delineation of one community gave."""

    community: str
    buildings: int
    housing_units: int
    residents: int
    grids: int
    fewest_possible: int
    max_units: int
    max_residents: int
    over_limit: int
    unchanged: int
    changed: int
    new: int
    min_compactness: float
    mean_compactness: float
    max_parts: int
    along_roads: float | None = None
    seconds: float = 0.0

    def line(self) -> str:
        """One line for people."""
        return (f"{self.community}: {self.grids} grids (fewest possible {self.fewest_possible}) "
                f"for {self.buildings:,} buildings, {self.housing_units:,} units, "
                f"{self.residents:,} residents; per grid at most {self.max_units} units and "
                f"{self.max_residents} residents; compactness {self.mean_compactness:.2f} "
                f"(min {self.min_compactness:.2f}); {self.unchanged} unchanged, "
                f"{self.changed} changed, {self.new} new"
                + ("" if self.along_roads is None else
                   f"; {self.along_roads:.0%} of inner boundaries along roads")
                + f" ({self.seconds:.2f} s)"
                + (f"; {self.over_limit} single buildings over the limits"
                   if self.over_limit else ""))  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def _compactness(geom: Any) -> tuple[float, int]:
    """Polsby-Popper (4πA/P², 1 for a circle) in metres, and the number of parts."""
    metric = shapely.transform(geom, lambda c: np.column_stack(to_metric(c[:, 0], c[:, 1])))
    perimeter = shapely.length(metric)
    score = 4 * math.pi * shapely.area(metric) / perimeter**2 if perimeter else 0.0
    return min(1.0, float(score)), len(shapely.get_parts(geom))


def _along_roads(grids: list[Any], outline: Any, roads: Any) -> float | None:
    """Share of the grids' inner boundaries (not the community's) within 2 m of a road.

    None when the community has no road or a single grid.
    """
    if roads is None or len(grids) < 2:
        return None
    frame = Frame(outline.centroid.x, outline.centroid.y)
    inner = shapely.difference(
        shapely.union_all([frame.to_plane(g).boundary for g in grids]),
        shapely.buffer(frame.to_plane(outline).boundary, 0.5),
    )
    if inner.length == 0:
        return None
    near = shapely.intersection(inner, shapely.buffer(frame.to_plane(roads), 2.0))
    return round(float(near.length / inner.length), 3)


def _outlines(footprints: NDArray[Any], groups: list[tuple[NDArray[Any], Any]]) -> list[Any]:
    """Each group's piece, with its own footprints given whole and the others' taken away."""
    out = []
    taken = shapely.union_all(footprints)
    for members, piece in groups:
        own = shapely.union_all(footprints[members])
        area = shapely.union(shapely.difference(piece, taken), own)
        polys = [p for p in shapely.get_parts(shapely.make_valid(area))
                 if isinstance(p, shapely.Polygon) and p.area > 0]  # fmt: skip
        out.append(polys)
    return [shapely.MultiPolygon(p) for p in _give_away_strays(out, footprints, groups)]


def _shared_border(a: Any, parts: list[Any]) -> float:
    return float(shapely.length(a.boundary.intersection(shapely.MultiPolygon(parts).boundary)))


def _give_away_strays(
    pieces: list[list[Any]], footprints: NDArray[Any], groups: list[tuple[NDArray[Any], Any]]
) -> list[list[Any]]:
    """Give each part of a grid that holds none of its buildings to a neighbour.

    The neighbour is the grid sharing the longest border with the part, so that grids stay
    in one piece where their buildings allow it.
    """
    owned = [shapely.union_all(footprints[members]) for members, _ in groups]
    for i, parts in enumerate(pieces):
        if len(parts) < 2:
            continue
        keep = [p for p in parts if p.intersects(owned[i])] or parts[:1]
        for stray in [p for p in parts if not any(p is k for k in keep)]:
            borders = [(_shared_border(stray, other), j) for j, other in enumerate(pieces)
                       if j != i and other]  # fmt: skip
            length, j = max(borders, default=(0.0, i))
            if length <= 0:
                keep.append(stray)
                continue
            merged = shapely.make_valid(shapely.union_all([*pieces[j], stray]))
            pieces[j] = [p for p in shapely.get_parts(merged) if isinstance(p, shapely.Polygon)]
        pieces[i] = keep
    return pieces


def _codes(
    community: str,
    groups: list[NDArray[Any]],
    codes: NDArray[Any],
    current: NDArray[Any],
    taken: set[str],
) -> list[tuple[str, str]]:
    """Each group's grid code and status (unchanged, changed, new).

    A new grid takes the first two-digit serial that no grid in force, no retired grid and
    no building code (``taken``) uses.
    """
    in_force = {g: set(codes[current == g]) for g in sorted(set(current.tolist()) - {""})}
    overlaps = sorted(((len(set(codes[grp]) & members), i, g) for i, grp in enumerate(groups)
                       for g, members in in_force.items()), reverse=True)  # fmt: skip
    out: list[tuple[str, str] | None] = [None] * len(groups)
    used: set[str] = set()
    for shared, i, g in overlaps:
        if shared == 0 or out[i] is not None or g in used:
            continue
        same = set(codes[groups[i]]) == in_force[g]
        out[i] = (g, "unchanged" if same else "changed")
        used.add(g)
    free = (f"{community}{n:02d}" for n in range(1, 100) if f"{community}{n:02d}" not in
            set(in_force) | used | taken)  # fmt: skip
    final = []
    for slot in out:
        if slot is None:
            code = next(free, None)
            if code is None:
                raise PlacementInputError(f"community {community} needs more than 99 grids")
            slot = (code, "new")
        final.append(slot)
    return final


def _frame(outline: Any, roads: Any) -> Frame:
    """Return the community's planar frame, turned so that its roads run along the axes."""
    c = outline.centroid
    flat = Frame(c.x, c.y)
    angle = road_angle(flat.to_plane(roads)) if roads is not None else 0.0
    return Frame(c.x, c.y, angle)


def _cut(
    lonlat: NDArray[Any],
    footprints: NDArray[Any],
    units: NDArray[Any],
    residents: NDArray[Any],
    outline: Any,
    roads: Any,
    limits: Limits,
) -> list[tuple[NDArray[Any], Any]]:
    """Group the buildings along the roads; each group with its piece of land (lon/lat)."""
    frame = _frame(outline, roads)
    bounds = shapely.bounds(frame.to_plane(footprints))
    b = Buildings(np.column_stack(frame.forward(lonlat[:, 0], lonlat[:, 1])), units, residents,
                  bounds)  # fmt: skip
    region = frame.to_plane(outline)
    faces = road_faces(region, None if roads is None else frame.to_plane(roads))
    cut = partition_faces(b, limits, faces) if faces else partition(b, limits, region)
    return [(members, frame.to_lonlat(piece)) for members, piece in cut]


def _taken_codes(conn: psycopg.Connection[Any], community: str) -> set[str]:
    """Grid codes that a new grid may not take: retired ones and building code prefixes."""
    rows = conn.execute(
        "SELECT code FROM twin.grid_retired WHERE community_code = %(c)s UNION "
        "SELECT DISTINCT left(code, 14) FROM twin.building WHERE code LIKE %(c)s || '%%'",
        {"c": community}).fetchall()  # fmt: skip
    return {r[0] for r in rows}


def delineate_community(
    conn: psycopg.Connection[Any], community: str, limits: Limits, actor: str
) -> GridReport | None:
    """Delineate one community's grids, store the plan, and report (None: no buildings)."""
    started = time.perf_counter()
    rows = conn.execute(sql_text("grid_buildings.sql"), {"community": community}).fetchall()
    if not rows:
        return None
    land = conn.execute(sql_text("grid_land.sql"), {"community": community}).fetchone()
    outline_wkb, roads_wkb = land or (None, None)
    if outline_wkb is None:
        raise PlacementInputError(f"community {community} has no outline to delineate")
    codes = np.array([r[0] for r in rows], dtype=object)
    current = np.array([r[1] for r in rows], dtype=object)
    lonlat = np.array([(r[2], r[3]) for r in rows], dtype=np.float64)
    footprints = shapely.from_wkb([r[4] for r in rows])
    units = np.array([r[5] for r in rows], dtype=np.float64)
    residents = np.array([r[6] for r in rows], dtype=np.float64)
    roads = shapely.from_wkb(roads_wkb) if roads_wkb is not None else None
    cut = _cut(lonlat, footprints, units, residents, shapely.from_wkb(outline_wkb), roads,
               limits)  # fmt: skip
    groups = [members for members, _ in cut]
    previous = conn.execute(
        "SELECT grid_code, building_codes, ST_AsBinary(geom) FROM twin.grid_plan "
        "WHERE community_code = %s", (community,)).fetchall()  # fmt: skip
    if previous:  # the last plan is the reference: its codes stay where nothing changed
        grid_of = {b: g for g, members, _ in previous for b in members}
        current = np.array([grid_of.get(c, "") for c in codes], dtype=object)
        in_force = {g: wkb for g, _, wkb in previous}
    else:
        in_force = dict(conn.execute(
            "SELECT code, ST_AsBinary(geom) FROM twin.admin_unit WHERE parent_code = %s "
            "AND level = 'grid'", (community,)).fetchall())  # fmt: skip
    named = _codes(community, groups, codes, current, _taken_codes(conn, community))
    drawn = _outlines(footprints, cut)
    conn.execute("DELETE FROM twin.grid_plan WHERE community_code = %s", (community,))
    scores, final = [], []
    # Nothing changed: the outlines in force stay (else the drawn ones, which tile together).
    same = {c for c, s in named if s == "unchanged"} == set(in_force)
    for grp, (code, status), geom in zip(groups, named, drawn, strict=True):
        if same and code in in_force:
            geom = shapely.from_wkb(in_force[code])
        score, parts = _compactness(geom)
        scores.append((score, parts))
        final.append(geom)
        conn.execute(sql_text("grid_plan_insert.sql"), {
            "community": community, "grid": code, "wkb": shapely.to_wkb(geom),
            "buildings": sorted(codes[grp].tolist()), "units": int(units[grp].sum()),
            "residents": int(residents[grp].sum()), "compactness": score, "parts": parts,
            "status": status, "actor": actor})  # fmt: skip
    statuses = [s for _, s in named]
    along = _along_roads(final, shapely.from_wkb(outline_wkb), roads)
    over = sum(
        1 for g in groups if len(g) == 1 and not limits.fits(units[g].sum(), residents[g].sum())
    )
    return GridReport(
        community, len(rows), int(units.sum()), int(residents.sum()), len(groups),
        limits.needed(float(units.sum()), float(residents.sum())),
        int(max(units[g].sum() for g in groups)), int(max(residents[g].sum() for g in groups)),
        over, statuses.count("unchanged"), statuses.count("changed"), statuses.count("new"),
        round(min(s for s, _ in scores), 3), round(float(np.mean([s for s, _ in scores])), 3),
        max(p for _, p in scores), along, round(time.perf_counter() - started, 3),
    )  # fmt: skip


def communities_with_buildings(conn: psycopg.Connection[Any]) -> list[str]:
    """Every community that has buildings, in code order."""
    rows = conn.execute("SELECT DISTINCT left(code, 12) FROM twin.building ORDER BY 1")
    return [r[0] for r in rows.fetchall()]


def communities_with_plans(conn: psycopg.Connection[Any]) -> list[str]:
    """Every community that has a stored grid plan, in code order."""
    rows = conn.execute("SELECT DISTINCT community_code FROM twin.grid_plan ORDER BY 1")
    return [r[0] for r in rows.fetchall()]
