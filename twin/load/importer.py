"""Import real administrative units, roads and buildings in standard formats.

Each row is reprojected from its declared CRS to WGS84, repaired when its geometry is invalid
(and reported as repaired), and rejected with a reason naming the row and the field when it
cannot be used. The whole import is one transaction: a file either lands whole (minus the
rejected rows, each reported) or, when the database refuses it, not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import shapely
from shapely import LineString, MultiLineString, MultiPolygon, Polygon

from twin.codes import LEVEL_LENGTHS, Level, building_code, validate
from twin.crs import WGS84, Crs, is_in_china, transform_geometry
from twin.errors import CodeError
from twin.load.reader import SourceRow, read_rows

if TYPE_CHECKING:
    from pathlib import Path

    import psycopg

    from shapely.geometry.base import BaseGeometry

KINDS = ("admin", "roads", "buildings")
#: Storey height used when a building gives floors but no height.
STOREY_M = 3.0


@dataclass
class ImportReport:
    """Rows accepted, repaired and rejected, with a reason per row."""

    kind: str
    accepted: int = 0
    repaired: list[tuple[int, str]] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)

    def reject(self, row: int, fieldname: str, reason: str) -> None:
        """Record a rejected row."""
        self.rejected.append((row, fieldname, reason))


def _polygonal(geom: BaseGeometry) -> MultiPolygon | None:
    parts: list[Polygon] = []
    for g in getattr(geom, "geoms", [geom]):
        if isinstance(g, Polygon) and not g.is_empty:
            parts.append(g)
        elif isinstance(g, MultiPolygon):
            parts.extend(g.geoms)
    return MultiPolygon(parts) if parts else None


def _linear(geom: BaseGeometry) -> MultiLineString | None:
    parts: list[LineString] = []
    for g in getattr(geom, "geoms", [geom]):
        if isinstance(g, LineString) and not g.is_empty:
            parts.append(g)
        elif isinstance(g, MultiLineString):
            parts.extend(g.geoms)
    return MultiLineString(parts) if parts else None


def prepare_geometry(
    row: SourceRow, crs: Crs, kind: str, report: ImportReport
) -> BaseGeometry | None:
    """Reproject, repair and check one row's geometry; report and return None when unusable."""
    geom = row.geometry
    if row.problem:
        report.reject(row.number, "geometry", row.problem)
        return None
    if geom is None or geom.is_empty:
        report.reject(row.number, "geometry", "empty or missing geometry")
        return None
    geom = transform_geometry(geom, crs, WGS84)
    xmin, ymin, xmax, ymax = geom.bounds
    if not (bool(is_in_china(xmin, ymin)) and bool(is_in_china(xmax, ymax))):
        report.reject(
            row.number,
            "geometry",
            f"coordinates ({xmin:.4f}, {ymin:.4f}) lie "
            f"outside China after conversion from {crs}: is --crs right?",
        )
        return None
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        geom = shapely.make_valid(geom)
        report.repaired.append((row.number, f"invalid geometry made valid ({reason})"))
    shaped = _linear(geom) if kind == "roads" else _polygonal(geom)
    if shaped is None:
        want = "lines" if kind == "roads" else "polygons"
        report.reject(row.number, "geometry", f"geometry holds no {want}")
        return None
    return shaped


def _mapped(attrs: dict[str, str], mapping: dict[str, str], name: str) -> str:
    return attrs.get(mapping.get(name, name), "").strip()


def import_file(
    conn: psycopg.Connection[Any],
    kind: str,
    path: Path,
    crs: Crs,
    *,
    layer: str | None = None,
    mapping: dict[str, str] | None = None,
) -> ImportReport:
    """Import a file of ``kind`` (admin, roads, buildings); the caller commits.

    ``mapping`` maps the project's field names (code, name, level, class, floors, height_m,
    use) to the file's column names.
    """
    rows = read_rows(path, layer)
    report = ImportReport(kind)
    mapping = mapping or {}
    conn.execute("SELECT set_config('twin.reason', %s, true)", (f"twin import {kind} {path}",))
    store = {"admin": _store_admin, "roads": _store_road, "buildings": _store_building}[kind]
    seen: set[str] = set()
    for row in rows:
        geom = prepare_geometry(row, crs, kind, report)
        if geom is not None:
            store(conn, row, geom, mapping, report, seen)
    return report


def _store_admin(
    conn: psycopg.Connection[Any],
    row: SourceRow,
    geom: BaseGeometry,
    mapping: dict[str, str],
    report: ImportReport,
    seen: set[str],
) -> None:
    code, name = _mapped(row.attrs, mapping, "code"), _mapped(row.attrs, mapping, "name")
    try:
        code = validate(code)
    except CodeError as exc:
        report.reject(row.number, "code", str(exc))
        return
    level = next(lv for lv, n in LEVEL_LENGTHS.items() if n == len(code))
    if level not in (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID):
        report.reject(row.number, "code", f"{code} is a {level.value} code, not an admin unit")
        return
    if not name:
        report.reject(row.number, "name", "missing name")
        return
    if code in seen:
        report.reject(row.number, "code", f"duplicate code {code} in the file")
        return
    parent = {6: None, 9: code[:6], 12: code[:9], 14: code[:12]}[len(code)]
    if (
        parent
        and conn.execute("SELECT 1 FROM twin.admin_unit WHERE code = %s", (parent,)).fetchone()
        is None
    ):
        report.reject(row.number, "code", f"unknown parent {parent}: load or import it first")
        return
    conn.execute(
        "INSERT INTO twin.admin_unit (code, level, name, parent_code, geom, source) VALUES "
        "(%s, %s, %s, %s, ST_Multi(ST_GeomFromWKB(%s, 4326)), 'import') ON CONFLICT (code) DO "
        "UPDATE SET name = excluded.name, geom = excluded.geom, source = excluded.source",
        (code, level.value, name, parent, shapely.to_wkb(geom)),
    )
    seen.add(code)
    report.accepted += 1


def _store_road(
    conn: psycopg.Connection[Any],
    row: SourceRow,
    geom: BaseGeometry,
    mapping: dict[str, str],
    report: ImportReport,
    seen: set[str],
) -> None:
    name = _mapped(row.attrs, mapping, "name")
    if not name:
        report.reject(row.number, "name", "missing road name")
        return
    found = conn.execute(
        "SELECT code FROM twin.admin_unit WHERE level = 'district' AND geom && "
        "ST_GeomFromWKB(%s, 4326) ORDER BY ST_Length(ST_Intersection(geom, "
        "ST_GeomFromWKB(%s, 4326))) DESC LIMIT 1",
        (shapely.to_wkb(geom),) * 2,
    ).fetchone()
    if found is None:
        report.reject(row.number, "geometry", "the road lies in no loaded district")
        return
    if f"{found[0]}{name}" in seen:
        report.reject(row.number, "name", f"duplicate road {name} in district {found[0]}")
        return
    conn.execute(
        "INSERT INTO twin.road (name, road_class, district_code, geom, source) VALUES "
        "(%s, %s, %s, ST_Multi(ST_GeomFromWKB(%s, 4326)), 'import') ON CONFLICT "
        "(district_code, name) DO UPDATE SET geom = excluded.geom, "
        "road_class = excluded.road_class",
        (name, _mapped(row.attrs, mapping, "class") or None, found[0], shapely.to_wkb(geom)),
    )
    seen.add(f"{found[0]}{name}")
    report.accepted += 1


def _number(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _dimensions(
    row: SourceRow, mapping: dict[str, str], report: ImportReport
) -> tuple[int, float] | None:
    floors = _number(_mapped(row.attrs, mapping, "floors"))
    height = _number(_mapped(row.attrs, mapping, "height_m"))
    if floors is None and height is None:
        report.reject(row.number, "floors", "neither floors nor height_m given")
        return None
    floors = floors if floors is not None else max(1.0, round((height or 0) / STOREY_M))
    height = height if height is not None else floors * STOREY_M
    if not (1 <= floors <= 200 and floors == int(floors)):
        report.reject(row.number, "floors", f"{floors:g} floors is not a building")
        return None
    if not 0 < height <= 700:
        report.reject(row.number, "height_m", f"a height of {height:g} m is absurd")
        return None
    return int(floors), float(height)


_GRID_OF = """
SELECT code FROM twin.admin_unit
WHERE level = 'grid' AND geom && ST_GeomFromWKB(%(g)s, 4326)
ORDER BY ST_Area(ST_Intersection(geom, ST_GeomFromWKB(%(g)s, 4326))) DESC, code
LIMIT 1
"""


def next_building_code(conn: psycopg.Connection[Any], grid: str) -> str:
    """Return the next free building code of a grid, holding a lock on the grid until commit.

    Two imports into one grid wait for each other on the lock, so they never take one code.
    """
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('building-serial:' || %s))", (grid,))
    row = conn.execute(
        "SELECT max(right(code, 5))::int FROM twin.building WHERE grid_code = %s", (grid,)
    ).fetchone()
    return building_code(grid, (row[0] if row and row[0] is not None else 0) + 1)


def _store_building(
    conn: psycopg.Connection[Any],
    row: SourceRow,
    geom: BaseGeometry,
    mapping: dict[str, str],
    report: ImportReport,
    seen: set[str],
) -> None:
    dims = _dimensions(row, mapping, report)
    if dims is None:
        return
    found = conn.execute(_GRID_OF, {"g": shapely.to_wkb(geom)}).fetchone()
    if found is None:
        report.reject(
            row.number, "geometry", "the building lies in no grid: import or generate grids first"
        )
        return
    grid = str(found[0])
    code = _mapped(row.attrs, mapping, "code")
    if code:
        try:
            code = validate(code, Level.BUILDING)
        except CodeError as exc:
            report.reject(row.number, "code", str(exc))
            return
        if code[:14] != grid or code in seen:
            why = "duplicate code in the file" if code in seen else f"its grid is {grid}"
            report.reject(row.number, "code", f"code {code} does not fit: {why}")
            return
    else:
        code = next_building_code(conn, grid)
    conn.execute(
        "INSERT INTO twin.building (code, grid_code, name, footprint, floors, height_m, use, "
        "source) VALUES (%s, %s, %s, ST_GeomFromWKB(%s, 4326), %s, %s, %s, 'import') "
        "ON CONFLICT (code) DO UPDATE SET footprint = excluded.footprint, "
        "floors = excluded.floors, height_m = excluded.height_m",
        (
            code,
            grid,
            _mapped(row.attrs, mapping, "name") or None,
            shapely.to_wkb(geom),
            dims[0],
            dims[1],
            _mapped(row.attrs, mapping, "use") or None,
        ),
    )
    seen.add(code)
    report.accepted += 1
