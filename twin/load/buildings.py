"""Import buildings: dimensions checked, each placed in a grid and coded like generated ones.

A building goes to the grid (``admin_unit`` level ``grid``) that holds most of its footprint.
A row with a code keeps it when the code is valid and starts with that grid's code; a row
without one is first matched against the buildings already stored (a footprint overlapping
one by :data:`MATCH_IOU` or more is that building, so re-importing a file updates instead of
duplicating), and otherwise gets the grid's next serial. Serials come from
``twin.code_counter`` (prefix = the grid code), reserved for a whole file at once, grid by
grid in code order, under the counter row's lock until commit: concurrent imports never get
one code, never deadlock on each other, and a serial is never handed out twice.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.types.json import Jsonb

import shapely

from twin.codes import Level, building_code, validate
from twin.errors import CodeError
from twin.load.common import value, write_row

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from twin.load.common import Columns, Item
    from twin.load.reader import SourceRow
    from twin.load.report import ImportReport

#: Storey height used when a building gives floors but no height, or height but no floors.
STOREY_M = 3.0
#: Below this a storey is not a storey: height_m / floors under it is absurd.
MIN_STOREY_M = 2.0
#: Intersection over union from which a footprint is taken for a stored building's.
MATCH_IOU = 0.8
SERIAL_DIGITS = 5
_NUMBER = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*(层|楼|f|m|米)?\s*$", re.IGNORECASE)
#: Our field → (lowest, highest) accepted; the schema's own limits.
_LIMITS = {
    "floors": (1, 200),
    "height_m": (0.1, 700),
    "basement_floors": (0, 20),
    "built_year": (1000, 2100),
}


@dataclass(eq=False)
class Planned:
    """A building row ready to write: its grid, its code (None until one is reserved)."""

    row: int
    geom: BaseGeometry
    grid: str
    code: str | None
    dims: dict[str, float | None]
    name: str | None
    use: str | None
    #: The code names a stored building (given, or matched by footprint): update it.
    existing: bool = False
    #: The code was reserved by this import: it must not overwrite anything.
    reserved: bool = False


def _number(row: SourceRow, columns: Columns, ours: str, report: ImportReport) -> float | None:
    """Return a numeric field (units such as 层 or 米 allowed), or NaN after rejecting the row."""
    text = value(row, columns, ours)
    if not text:
        return None
    match = _NUMBER.match(text)
    low, high = _LIMITS[ours]
    number = float(match.group(1)) if match else None
    if number is None or not low <= number <= high:
        what = "is not a number" if number is None else f"is absurd (allowed {low}-{high})"
        report.reject(row.number, ours, f"{ours} {text!r} {what}")
        return float("nan")
    if ours != "height_m" and number != int(number):
        report.reject(row.number, ours, f"{ours} {text!r} is not a whole number")
        return float("nan")
    return number


def dimensions(
    row: SourceRow, columns: Columns, report: ImportReport
) -> dict[str, float | None] | None:
    """Floors, height, basements and year; the missing one of floors/height at 3 m a storey."""
    got = {ours: _number(row, columns, ours, report) for ours in _LIMITS}
    if any(v is not None and v != v for v in got.values()):  # NaN: already rejected
        return None
    floors, height = got["floors"], got["height_m"]
    if floors is None and height is None:
        report.reject(row.number, "floors", "neither floors nor height_m given")
        return None
    floors = floors if floors is not None else max(1.0, round((height or 0) / STOREY_M))
    height = height if height is not None else floors * STOREY_M
    if height < floors * MIN_STOREY_M:
        report.reject(
            row.number, "height_m", f"{height:g} m for {floors:g} floors is under 2 m a storey"
        )
        return None
    return got | {"floors": floors, "height_m": height}


#: Per footprint: the grid holding most of it, and the stored building overlapping it most
#: with that overlap (intersection over union). One query per batch of footprints.
_LOCATE = """
WITH b AS (
    SELECT t.n, ST_GeomFromWKB(t.wkb, 4326) AS g
    FROM unnest(%s::bytea[]) WITH ORDINALITY AS t(wkb, n)
)
SELECT b.n, grid.code, same.code, same.iou
FROM b
LEFT JOIN LATERAL (
    SELECT u.code FROM twin.admin_unit AS u
    WHERE u.level = 'grid' AND u.geom && b.g AND ST_Intersects(u.geom, b.g)
    ORDER BY ST_Area(ST_Intersection(u.geom, b.g)) DESC, u.code
    LIMIT 1
) AS grid ON true
LEFT JOIN LATERAL (
    SELECT s.code, ST_Area(ST_Intersection(s.footprint, b.g))
                   / nullif(ST_Area(ST_Union(s.footprint, b.g)), 0) AS iou
    FROM twin.building AS s
    WHERE s.footprint && b.g AND ST_Intersects(s.footprint, b.g)
    ORDER BY iou DESC NULLS LAST, s.code
    LIMIT 1
) AS same ON true
ORDER BY b.n
"""
_LOCATE_BATCH = 500
Located = tuple["str | None", "str | None", "float | None"]


def locate(conn: psycopg.Connection[Any], geoms: list[BaseGeometry]) -> list[Located]:
    """Return (grid, most overlapping stored building, its overlap) for each footprint."""
    out: list[Located] = []
    for start in range(0, len(geoms), _LOCATE_BATCH):
        wkbs = [shapely.to_wkb(g) for g in geoms[start : start + _LOCATE_BATCH]]
        rows = conn.execute(_LOCATE, (wkbs,)).fetchall()
        out += [(grid, same, None if iou is None else float(iou)) for _, grid, same, iou in rows]
    return out


def _given_code(row: int, text: str, plan: Planned, report: ImportReport) -> bool:
    """Check a given code's shape and grid, and set it on the plan; False after rejecting."""
    try:
        code = validate(text, Level.BUILDING)
    except CodeError as exc:
        report.reject(row, "code", str(exc))
        return False
    # A stored building may lie in another grid of its community than its code says (a
    # re-delineation moved it); a new code must start with its grid (_check_stored).
    if code[:12] != plan.grid[:12]:
        report.reject(row, "code", f"code {code} does not start with its grid {plan.grid}")
        return False
    plan.code = code
    return True


_STORED = """
SELECT t.code, ST_Intersects(s.footprint, ST_GeomFromWKB(t.wkb, 4326))
FROM unnest(%s::text[], %s::bytea[]) AS t(code, wkb)
JOIN twin.building AS s ON s.code = t.code
"""


def _check_stored(
    conn: psycopg.Connection[Any], plans: list[Planned], report: ImportReport
) -> list[Planned]:
    """Mark given codes that are stored; reject those of a building elsewhere (a clash).

    A code not stored yet must start with the grid its building lies in.
    """
    given = [p for p in plans if p.code is not None and not p.existing]
    wkbs = [shapely.to_wkb(p.geom) for p in given]
    found = dict(conn.execute(_STORED, ([p.code for p in given], wkbs)).fetchall())
    clashes: set[int] = set()
    for p in given:
        if p.code in found and not found[p.code]:
            report.reject(p.row, "code", f"code {p.code} belongs to another building elsewhere")
            clashes.add(p.row)
        elif p.code in found:
            p.existing = True
        elif p.code is not None and p.code[:14] != p.grid:
            report.reject(p.row, "code", f"code {p.code} does not start with its grid {p.grid}")
            clashes.add(p.row)
    return [p for p in plans if p.row not in clashes]


def _plan(item: Item, located: Located, columns: Columns, report: ImportReport) -> Planned | None:
    row, geom = item
    dims = dimensions(row, columns, report)
    if dims is None:
        return None
    grid, same, iou = located
    if grid is None:
        report.reject(row.number, "geometry", "the building lies in no grid: import grids first")
        return None
    name, use = value(row, columns, "name") or None, value(row, columns, "use") or None
    plan = Planned(row.number, geom, grid, None, dims, name, use)
    if text := value(row, columns, "code"):
        return plan if _given_code(row.number, text, plan, report) else None
    if same is not None and iou is not None and iou >= MATCH_IOU:
        plan.code, plan.existing = same, True
        report.note(row.number, f"same footprint as stored building {same} ({iou:.0%})")
    return plan


_RESERVE = """
INSERT INTO twin.code_counter AS c (prefix, last)
VALUES (%(grid)s, greatest(%(floor)s, coalesce((
    SELECT max(right(code, 5)::int) FROM twin.building WHERE code LIKE %(grid)s || '%%'),
    0)) + %(n)s)
ON CONFLICT (prefix) DO UPDATE SET last = greatest(c.last, excluded.last - %(n)s) + %(n)s
RETURNING last
"""


def reserve_serials(
    conn: psycopg.Connection[Any], grid: str, count: int, floor: int = 0
) -> range | None:
    """Reserve ``count`` building serials in a grid, above ``floor``; lock the grid to commit.

    Returns
    -------
    range or None
        The reserved serials, or None when the grid's 99999 serials would run out.
    """
    row = conn.execute(_RESERVE, {"grid": grid, "floor": floor, "n": count}).fetchone()
    last = int(row[0]) if row else 0
    if last >= 10**SERIAL_DIGITS:
        return None
    return range(last - count + 1, last + 1)


def _assign_codes(
    conn: psycopg.Connection[Any], plans: list[Planned], report: ImportReport
) -> list[Planned]:
    """Give code-less plans the next serials of their grids; return the plans with codes."""
    need = Counter(p.grid for p in plans if p.code is None)
    given = Counter[str]()
    for p in plans:
        if p.code is not None and p.code[:14] == p.grid:
            given[p.grid] = max(given[p.grid], int(p.code[14:]))
    waiting_in: dict[str, list[Planned]] = defaultdict(list)
    for p in plans:
        if p.code is None:
            waiting_in[p.grid].append(p)
    for grid in sorted(need | given):  # one order for every import: no deadlocks
        serials = reserve_serials(conn, grid, need[grid], given[grid])
        waiting = waiting_in[grid]
        if serials is None:
            for p in waiting:
                report.reject(p.row, "code", f"grid {grid} has no building serials left")
            continue
        for p, serial in zip(waiting, serials, strict=True):
            p.code, p.reserved = building_code(grid, serial), True
    return [p for p in plans if p.code is not None]


def _params(plans: list[Planned], file: str) -> dict[str, list[Any]]:
    """Column arrays of the plans, for the ``unnest`` of :data:`_INSERT` and :data:`_UPDATE`."""

    def whole(p: Planned, key: str) -> int | None:
        number = p.dims[key]
        return None if number is None else int(number)

    return {
        "code": [p.code for p in plans],
        "name": [p.name for p in plans],
        "wkb": [shapely.to_wkb(p.geom) for p in plans],
        "floors": [whole(p, "floors") for p in plans],
        "basement": [whole(p, "basement_floors") for p in plans],
        "height": [p.dims["height_m"] for p in plans],
        "use": [p.use for p in plans],
        "year": [whole(p, "built_year") for p in plans],
        "attrs": [Jsonb({"imported_from": file, "imported_row": p.row}) for p in plans],
    }


_ROWS = """unnest(%(code)s::text[], %(name)s::text[], %(wkb)s::bytea[], %(floors)s::int[],
    %(basement)s::int[], %(height)s::real[], %(use)s::text[], %(year)s::int[],
    %(attrs)s::jsonb[]) AS t(code, name, wkb, floors, basement, height, use, year, attrs)"""
#: New buildings; a code taken meanwhile is skipped (never overwritten) and comes back missing.
_INSERT = f"""
INSERT INTO twin.building (code, grid_code, name, footprint, floors, basement_floors,
                           height_m, use, built_year, source, attrs)
SELECT t.code, left(t.code, 14), t.name, ST_Multi(ST_GeomFromWKB(t.wkb, 4326)), t.floors,
       coalesce(t.basement, 0), t.height, t.use, t.year, 'import', t.attrs
FROM {_ROWS}
ON CONFLICT (code) DO NOTHING
RETURNING code
"""
#: Stored buildings (given or matched codes); what the file leaves empty is kept.
_UPDATE = f"""
UPDATE twin.building AS s
SET footprint = ST_Multi(ST_GeomFromWKB(t.wkb, 4326)), floors = t.floors,
    basement_floors = coalesce(t.basement, s.basement_floors), height_m = t.height,
    name = coalesce(t.name, s.name), use = coalesce(t.use, s.use),
    built_year = coalesce(t.year, s.built_year), is_generated = false, attrs = s.attrs || t.attrs
FROM {_ROWS}
WHERE s.code = t.code
RETURNING s.code
"""
_WRITE_BATCH = 1000


def _write(
    conn: psycopg.Connection[Any],
    query: str,
    plans: list[Planned],
    file: str,
    report: ImportReport,
) -> tuple[set[str], set[int]]:
    """Write plans in batches; a batch the database refuses is retried row by row.

    Returns
    -------
    tuple of set
        The codes written, and the rows the database refused (rejected in the report).
    """
    written: set[str] = set()
    refused: set[int] = set()
    for start in range(0, len(plans), _WRITE_BATCH):
        batch = plans[start : start + _WRITE_BATCH]
        try:
            with conn.transaction():
                rows = conn.execute(query, _params(batch, file)).fetchall()
            written |= {str(r[0]) for r in rows}
            continue
        except (psycopg.IntegrityError, psycopg.DataError):
            pass
        for p in batch:
            done = write_row(conn, report, [p.row], query, _params([p], file))
            if done is None:
                refused.add(p.row)
            elif done:
                written.add(str(done[0]))
    return written, refused


def _write_all(
    conn: psycopg.Connection[Any], plans: list[Planned], file: str, report: ImportReport
) -> None:
    """Insert the new buildings, then update the stored ones (and those inserted meanwhile)."""
    new = [p for p in plans if not p.existing]
    inserted, refused = _write(conn, _INSERT, new, file, report)
    late = [p for p in new if p.code not in inserted and p.row not in refused]
    for p in late:
        if p.reserved:  # only if something wrote into the grid without its counter
            report.reject(p.row, "code", f"code {p.code} was taken meanwhile: import it again")
    stored = [p for p in plans if p.existing] + [p for p in late if not p.reserved]
    updated, refused = _write(conn, _UPDATE, stored, file, report)
    for p in stored:
        if p.code not in updated and p.row not in refused:
            report.reject(p.row, "code", f"building {p.code} was deleted meanwhile")
    report.accepted += len(inserted) + len(updated)
    report.updated += len(updated)


def import_buildings(
    conn: psycopg.Connection[Any],
    items: list[Item],
    columns: Columns,
    report: ImportReport,
    file: str,
) -> None:
    """Plan every row (grid, code), reserve the missing codes, then write in batches."""
    plans: list[Planned] = []
    taken: dict[str, int] = {}
    for item, located in zip(items, locate(conn, [g for _, g in items]), strict=True):
        plan = _plan(item, located, columns, report)
        if plan is None:
            continue
        if plan.code is not None and plan.code in taken:
            report.reject(plan.row, "code", f"duplicate: row {taken[plan.code]} is {plan.code}")
            continue
        if plan.code is not None:
            taken[plan.code] = plan.row
        plans.append(plan)
    plans = _check_stored(conn, plans, report)
    _write_all(conn, _assign_codes(conn, plans, report), file, report)
