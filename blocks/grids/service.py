"""Delineate a community's grids and store the plan, keeping the codes of unchanged grids.

1. Read the community's buildings (a representative point, the footprint, housing units =
   rooms of residential buildings, residents = placed people) and its grids in force.
2. :func:`~blocks.grids.delineate.partition` groups the buildings under the limits.
3. Outlines: the community cut along the same straight lines as the buildings (a meridian
   or a parallel half-way between two buildings); then each building's footprint is given
   whole to its own grid and taken from the others, so no grid cuts a building. Grids tile
   the community: no gap, no overlap.
4. Codes, against the community's last plan (or, before the first, the grids in force): a
   group with exactly the buildings of a reference grid keeps that grid's code and outline
   (``unchanged``); otherwise a group takes the code of the reference grid it shares the
   most buildings with, if free (``changed``), else the first free two-digit serial
   (``new``).
5. The plan replaces the community's rows in ``twin.grid_plan``; a report per community.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

import shapely

from blocks.errors import PlacementInputError
from blocks.grids.delineate import Buildings, Limits, partition
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

    def line(self) -> str:
        """One line for people."""
        return (f"{self.community}: {self.grids} grids (fewest possible {self.fewest_possible}) "
                f"for {self.buildings:,} buildings, {self.housing_units:,} units, "
                f"{self.residents:,} residents; per grid at most {self.max_units} units and "
                f"{self.max_residents} residents; compactness {self.mean_compactness:.2f} "
                f"(min {self.min_compactness:.2f}); {self.unchanged} unchanged, "
                f"{self.changed} changed, {self.new} new"
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
    community: str, groups: list[NDArray[Any]], codes: NDArray[Any], current: NDArray[Any]
) -> list[tuple[str, str]]:
    """Each group's grid code and status (unchanged, changed, new)."""
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
            set(in_force) | used)  # fmt: skip
    final = []
    for slot in out:
        if slot is None:
            code = next(free, None)
            if code is None:
                raise PlacementInputError(f"community {community} needs more than 99 grids")
            slot = (code, "new")
        final.append(slot)
    return final


def delineate_community(
    conn: psycopg.Connection[Any], community: str, limits: Limits, actor: str
) -> GridReport | None:
    """Delineate one community's grids, store the plan, and report (None: no buildings)."""
    rows = conn.execute(sql_text("grid_buildings.sql"), {"community": community}).fetchall()
    if not rows:
        return None
    (outline,) = conn.execute("SELECT ST_AsBinary(geom) FROM twin.admin_unit WHERE code = %s",
                              (community,)).fetchone() or (None,)  # fmt: skip
    codes = np.array([r[0] for r in rows], dtype=object)
    current = np.array([r[1] for r in rows], dtype=object)
    lonlat = np.array([(r[2], r[3]) for r in rows], dtype=np.float64)
    footprints = shapely.from_wkb([r[4] for r in rows])
    units = np.array([r[5] for r in rows], dtype=np.float64)
    residents = np.array([r[6] for r in rows], dtype=np.float64)
    xy = np.column_stack(to_metric(lonlat[:, 0], lonlat[:, 1]))
    cut = partition(Buildings(xy, lonlat, units, residents), limits, shapely.from_wkb(outline))
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
    named = _codes(community, groups, codes, current)
    drawn = _outlines(footprints, cut)
    conn.execute("DELETE FROM twin.grid_plan WHERE community_code = %s", (community,))
    scores = []
    for grp, (code, status), geom in zip(groups, named, drawn, strict=True):
        if status == "unchanged" and code in in_force:  # keep the outline in force
            geom = shapely.from_wkb(in_force[code])
        score, parts = _compactness(geom)
        scores.append((score, parts))
        conn.execute(sql_text("grid_plan_insert.sql"), {
            "community": community, "grid": code, "wkb": shapely.to_wkb(geom),
            "buildings": sorted(codes[grp].tolist()), "units": int(units[grp].sum()),
            "residents": int(residents[grp].sum()), "compactness": score, "parts": parts,
            "status": status, "actor": actor})  # fmt: skip
    statuses = [s for _, s in named]
    over = sum(
        1 for g in groups if len(g) == 1 and not limits.fits(units[g].sum(), residents[g].sum())
    )
    return GridReport(
        community, len(rows), int(units.sum()), int(residents.sum()), len(groups),
        limits.needed(float(units.sum()), float(residents.sum())),
        int(max(units[g].sum() for g in groups)), int(max(residents[g].sum() for g in groups)),
        over, statuses.count("unchanged"), statuses.count("changed"), statuses.count("new"),
        round(min(s for s, _ in scores), 3), round(float(np.mean([s for s, _ in scores])), 3),
        max(p for _, p in scores),
    )  # fmt: skip


def communities_with_buildings(conn: psycopg.Connection[Any]) -> list[str]:
    """Every community that has buildings, in code order."""
    rows = conn.execute("SELECT DISTINCT left(code, 12) FROM twin.building ORDER BY 1")
    return [r[0] for r in rows.fetchall()]
