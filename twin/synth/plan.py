"""The district plan: units, outlines and roads, derived from the database and the seed.

Everything here is computed again, identically, whenever a run starts or resumes: the real
units and the district outline come from ``twin load admin``; street outlines tile the
district (a functional area's streets tile that area's part of it) unless given with
``--streets``; community outlines tile their street; roads cross the whole district.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import shapely

from twin.address_codes import road_address_code
from twin.errors import TwinError
from twin.synth.bulk import max_real_serial
from twin.synth.density import Targets, district_targets, grid_count
from twin.synth.geometry import as_multipolygon, to_metric
from twin.synth.names import place_stem
from twin.synth.polygons import fit_outlines, lonlat_scale, tessellate
from twin.synth.rng import rng_for
from twin.synth.roads import Road, road_network

if TYPE_CHECKING:
    from pathlib import Path

    import psycopg

    from shapely.geometry.base import BaseGeometry


class GenerateError(TwinError):
    """A generation run cannot start or go on."""


@dataclass(frozen=True)
class Unit:
    """An administrative unit as the generator sees it."""

    code: str
    name: str
    parent: str | None
    functional_area: str | None = None


@dataclass
class Plan:
    """A district's units, outlines and roads.

    Outlines are WGS84 (``street_geoms``, ``community_geoms``: cut in WGS84 from the real
    district outline, so they tile it exactly as stored) and metric (``outline``,
    ``community_metric``: for roads and layouts); roads are metric.
    """

    district: Unit
    outline: BaseGeometry
    streets: list[Unit]
    street_geoms: dict[str, BaseGeometry]
    communities: dict[str, list[Unit]]
    community_geoms: dict[str, BaseGeometry]
    roads: list[Road]
    angle: float
    ordinals: dict[str, tuple[int, int]]
    road_offset: int
    community_metric: dict[str, BaseGeometry] = field(default_factory=dict)
    shares: dict[str, float] = field(default_factory=dict)

    def road_code(self, index: int) -> str:
        """Return the address code of road ``index`` (numbered after the district's real roads)."""
        return road_address_code(self.district.code, self.roads[index].serial + self.road_offset)

    def stem(self, unit: Unit) -> str:
        """Return a unit's place name for road and compound names (the district's if unusable)."""
        return place_stem(unit.name) or place_stem(self.district.name) or unit.name[:2]


def _units(
    conn: psycopg.Connection[Any], district: str
) -> tuple[Unit, list[Unit], dict[str, list[Unit]]]:
    rows = conn.execute(
        "SELECT code, name, parent_code, level, functional_area_code FROM twin.admin_unit "
        "WHERE left(code, 6) = %s AND level IN ('district', 'street', 'community') ORDER BY code",
        (district,),
    ).fetchall()
    if not rows or rows[0][3] != "district":
        raise GenerateError(f"district {district} is not loaded: run `twin load admin` first")
    head = Unit(rows[0][0], rows[0][1], None)
    streets = [Unit(c, n, p, fa) for c, n, p, lvl, fa in rows if lvl == "street"]
    communities: dict[str, list[Unit]] = {}
    for c, n, p, lvl, _ in rows:
        if lvl == "community":
            communities.setdefault(p, []).append(Unit(c, n, p))
    return head, streets, communities


def _geoms(conn: psycopg.Connection[Any], sql: str, key: str) -> dict[str, BaseGeometry]:
    return {
        code: as_multipolygon(shapely.from_wkb(bytes(wkb)))
        for code, wkb in conn.execute(sql, (key,)).fetchall()
        if wkb is not None
    }


def _assign(parent: BaseGeometry, units: list[Unit], seed: int) -> dict[str, BaseGeometry]:
    """Tile ``parent`` (WGS84) among units, seeded by the first unit's code."""
    if not units:
        return {}
    ordered = sorted(units, key=lambda u: u.code)
    rng = rng_for(seed, "tessellate", ordered[0].code, len(ordered))
    aspect, sliver = lonlat_scale(parent)
    parts = tessellate(parent, len(ordered), rng, aspect=aspect, sliver=sliver)
    return {u.code: c for u, c in zip(ordered, parts, strict=True)}


def street_outlines(
    district: BaseGeometry, streets: list[Unit], areas: dict[str, BaseGeometry], seed: int
) -> dict[str, BaseGeometry]:
    """Tile the district (WGS84) among its streets; a functional area's streets tile its part."""
    out: dict[str, BaseGeometry] = {}
    rest = district
    for area in sorted({s.functional_area for s in streets if s.functional_area in areas}):
        assert area is not None
        part = as_multipolygon(district.intersection(areas[area]))
        rest = rest.difference(part)
        out.update(_assign(part, [s for s in streets if s.functional_area == area], seed))
    others = [s for s in streets if s.functional_area not in areas]
    out.update(_assign(as_multipolygon(rest), others, seed))
    return out


def plan_district(
    conn: psycopg.Connection[Any],
    district: str,
    seed: int,
    streets_file: dict[str, BaseGeometry] | None = None,
) -> Plan:
    """Derive the outlines and roads of a district from the database and the seed.

    Raises
    ------
    GenerateError
        When the district is not loaded, has no outline, or ``streets_file`` misses a street.
    """
    head, streets, communities = _units(conn, district)
    outline = _geoms(
        conn, "SELECT code, ST_AsBinary(geom) FROM twin.admin_unit WHERE code = %s", district
    )
    if district not in outline:
        raise GenerateError(f"district {district} has no outline: run `twin load admin` first")
    whole = outline[district]
    if streets_file:
        try:
            street_geoms: dict[str, BaseGeometry] = dict(
                fit_outlines(whole, streets_file, [s.code for s in streets], lonlat_scale(whole)[1])
            )
        except ValueError as exc:
            raise GenerateError(f"the streets file has {exc}") from exc
    else:
        sql = "SELECT code, ST_AsBinary(geom) FROM twin.functional_area WHERE district_code = %s"
        areas = _geoms(conn, sql, district)
        street_geoms = street_outlines(whole, streets, areas, seed)
    community_geoms: dict[str, BaseGeometry] = {}
    for s in streets:
        community_geoms.update(_assign(street_geoms[s.code], communities.get(s.code, []), seed))
    metric = {code: to_metric(g) for code, g in sorted(community_geoms.items())}
    outline_m = to_metric(whole)
    roads, angle = _roads(conn, head, outline_m, streets, communities, metric, seed)
    road_offset = max_real_serial(conn, f"{district}R", 5)
    return Plan(head, outline_m, streets, street_geoms, communities, community_geoms, roads,
                angle, _ordinals(conn), road_offset, metric)  # fmt: skip


def _roads(
    conn: psycopg.Connection[Any],
    head: Unit,
    outline: BaseGeometry,
    streets: list[Unit],
    communities: dict[str, list[Unit]],
    geoms: dict[str, BaseGeometry],
    seed: int,
) -> tuple[list[Road], float]:
    plan_stub = Plan(head, outline, streets, {}, communities, geoms, [], 0.0, {}, 0)
    local = [
        (geoms[c.code], plan_stub.stem(c))
        for s in streets
        for c in communities.get(s.code, [])
        if c.code in geoms
    ]
    stems = [st for st in [place_stem(head.name), *(place_stem(s.name) for s in streets)] if st]
    taken = {
        r[0]
        for r in conn.execute(
            "SELECT name FROM twin.road WHERE district_code = %s AND NOT is_generated", (head.code,)
        )
    }
    return road_network(outline, head.code, seed, local, stems or [head.name[:2]], taken)


def _ordinals(conn: psycopg.Connection[Any]) -> dict[str, tuple[int, int]]:
    """Each community's ordinal in the city and in its district (codes in order)."""
    codes = conn.execute(
        "SELECT code FROM twin.admin_unit WHERE level = 'community' ORDER BY code"
    ).fetchall()
    out: dict[str, tuple[int, int]] = {}
    per_district: dict[str, int] = {}
    for i, (code,) in enumerate(codes):
        local = per_district.get(code[:6], 0)
        per_district[code[:6]] = local + 1
        out[code] = (i, local)
    return out


#: A community's share of its district: this much by area, the rest equal (real communities
#: are drawn to similar populations; big rural ones are less dense).
AREA_WEIGHT = 0.3
#: Virtual communities (虚拟社区: an airport, a port) house almost nobody.
VIRTUAL_WEIGHT = 0.05


def community_shares(plan: Plan, seed: int) -> dict[str, float]:
    """Return each community's share of its district's people, rooms and buildings (sum 1).

    A community's weight is ``AREA_WEIGHT`` × its share of the district's area plus the rest
    shared equally, times a log-normal factor (σ = 0.3) from its own stream.
    """
    units = [c for cs in plan.communities.values() for c in cs if c.code in plan.community_metric]
    area = sum(plan.community_metric[c.code].area for c in units) or 1.0
    weights = {}
    for c in units:
        base = AREA_WEIGHT * plan.community_metric[c.code].area / area
        base += (1 - AREA_WEIGHT) / len(units)
        factor = float(rng_for(seed, "targets", c.code).lognormal(0, 0.3))
        weights[c.code] = base * factor * (VIRTUAL_WEIGHT if "虚拟" in c.name else 1.0)
    total = sum(weights.values())
    return {code: w / total for code, w in weights.items()}


def community_targets(plan: Plan, community: str, scale: str, seed: int) -> tuple[Targets, int]:
    """Return a community's targets at ``scale`` and its number of base grids.

    Its grids are counted at full density (one per 500 housing units), so they are the same
    at every scale.
    """
    if not plan.shares:
        plan.shares = community_shares(plan, seed)
    share = plan.shares.get(community, 0.0)
    full = district_targets(plan.district.code, "city").share(share)
    return district_targets(plan.district.code, scale).share(share), grid_count(full.rooms)


def read_streets_file(path: Path) -> dict[str, BaseGeometry]:
    """Read street outlines from a GeoJSON file (WGS84) whose features have a 9-digit ``code``.

    Returns the outlines (WGS84) by street code.

    Raises
    ------
    GenerateError
        When the file is not GeoJSON, a feature has no 9-digit code or no polygon.
    """
    import json

    import shapely.geometry

    try:
        features = json.loads(path.read_text(encoding="utf-8-sig"))["features"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GenerateError(f"{path} is not a GeoJSON FeatureCollection: {exc}") from exc
    out: dict[str, BaseGeometry] = {}
    for i, feature in enumerate(features, start=1):
        code = str((feature.get("properties") or {}).get("code", ""))
        if not (len(code) == 9 and code.isdigit()):
            raise GenerateError(f"{path}: feature {i} has no 9-digit street code (property code)")
        try:
            shape = as_multipolygon(shapely.geometry.shape(feature["geometry"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise GenerateError(f"{path}: feature {i} ({code}) has no valid geometry") from exc
        if shape.is_empty:
            raise GenerateError(f"{path}: feature {i} ({code}) is not a polygon")
        out[code] = shape
    return out
