"""Write a district's layout: street and community outlines, roads, and their addresses.

Outlines go into the real administrative units (``attrs.geometry_generated = true``); roads
get deterministic ids; the district, its streets and communities get their standard addresses
(code = the administrative code) unless the address library holds them already; roads get
road addresses (district + ``R`` + serial) with their old names as aliases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twin.synth import SOURCE
from twin.synth.addresses import PREFIX, Place, address_row, alias_row, elements
from twin.synth.geometry import hex_ewkb
from twin.synth.writer import Row, copy_rows

if TYPE_CHECKING:
    import psycopg

    from twin.synth.plan import Plan

_UPDATE_OUTLINE = (
    "UPDATE twin.admin_unit SET geom = ST_Multi(ST_GeomFromEWKB(decode(%s, 'hex'))), "
    "attrs = attrs || '{\"geometry_generated\": true}'::jsonb WHERE code = %s"
)
_INSERT_ADDRESS = (
    "INSERT INTO twin.address (code, level, text, parent_code, district_code, street_code, "
    "community_code, elements, status, is_generated, created_by) VALUES "
    "(%s, %s, %s, %s, %s, %s, %s, %s::jsonb, 'published', true, %s) ON CONFLICT (code) DO NOTHING"
)


def _admin_addresses(plan: Plan) -> list[tuple[Any, ...]]:
    d = plan.district
    rows: list[tuple[Any, ...]] = [
        (d.code, "district", f"{PREFIX}{d.name}", None, d.code, None, None,
         elements(district=d.name), SOURCE),
    ]  # fmt: skip
    for s in plan.streets:
        rows.append((s.code, "street", f"{PREFIX}{d.name}{s.name}", d.code, d.code, s.code,
                     None, elements(district=d.name, street=s.name), SOURCE))  # fmt: skip
        for c in plan.communities.get(s.code, []):
            rows.append((
                c.code, "community", f"{PREFIX}{d.name}{s.name}{c.name}", s.code, d.code, s.code,
                c.code, elements(district=d.name, street=s.name, community=c.name), SOURCE,
            ))  # fmt: skip
    return rows


def _road_rows(plan: Plan) -> tuple[list[Row], list[Row], list[Row]]:
    """Rows of the roads, their addresses (at the middle of the longest part) and aliases."""
    d = plan.district
    shapes = hex_ewkb([r.geom for r in plan.roads])
    middles = hex_ewkb([
        max(r.geom.geoms, key=lambda g: g.length).interpolate(0.5, normalized=True)
        for r in plan.roads
    ])  # fmt: skip
    roads: list[Row] = []
    addresses: list[Row] = []
    aliases: list[Row] = []
    for i, r in enumerate(plan.roads):
        roads.append((r.id, r.name, r.road_class, d.code, shapes[i], True, SOURCE,
                      elements(old_name=r.old_name)))  # fmt: skip
        code = plan.road_code(i)
        addresses.append(address_row(
            Place(d.code), code, "road", f"{PREFIX}{d.name}{r.name}", d.code, road_id=r.id,
            elements_json=elements(district=d.name, road=r.name), geom=middles[i],
        ))  # fmt: skip
        if r.old_name:
            alias_id = int(d.code) * 1_000_000 + len(aliases) + 1
            aliases.append(alias_row(alias_id, code, f"{d.name}{r.old_name}", "old_name"))
    return roads, addresses, aliases


def write_layout(conn: psycopg.Connection[Any], plan: Plan, key: str) -> dict[str, int]:
    """Store outlines, roads and the administrative and road addresses; return rows written.

    The caller commits (the layout is one transaction with the run's registration).
    """
    outlines = [
        (code, g)
        for code, g in [*plan.street_geoms.items(), *plan.community_geoms.items()]
        if not g.is_empty  # a unit squeezed out of a tiny parent keeps no outline
    ]
    shapes = hex_ewkb([g for _, g in outlines], metric=False)
    with conn.cursor() as cur:
        cur.executemany(
            _UPDATE_OUTLINE, [(s, c) for (c, _), s in zip(outlines, shapes, strict=True)]
        )
        cur.executemany(_INSERT_ADDRESS, _admin_addresses(plan))
    roads, addresses, aliases = _road_rows(plan)
    written = {
        "twin.admin_unit": len(outlines),
        "twin.road": copy_rows(conn, "twin.road", roads),
        "twin.address": copy_rows(conn, "twin.address", addresses),
        "twin.address_alias": copy_rows(conn, "twin.address_alias", aliases),
    }
    conn.execute(
        "INSERT INTO twin.code_counter AS c (prefix, last) VALUES (%s, %s) "
        "ON CONFLICT (prefix) DO UPDATE SET last = greatest(c.last, excluded.last)",
        (f"{plan.district.code}R", plan.road_offset + len(plan.roads)),
    )
    conn.execute("UPDATE twin.synth_run SET status = 'content' WHERE run_key = %s", (key,))
    return written
