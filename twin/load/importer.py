"""Import real administrative units, roads and buildings in standard formats.

Each row is reprojected from its declared CRS to WGS84, repaired when its geometry is invalid
(and reported as repaired), and rejected with a reason naming the row and the field when it
cannot be used. The whole import is one transaction: a file either lands whole (minus the
rejected rows, each reported) or, when it cannot be read at all, not at all.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

import shapely

from twin.codes import Level, level_of, parent, validate
from twin.errors import CodeError
from twin.load.buildings import import_buildings
from twin.load.common import Columns, Item, resolve_columns, value, write_row
from twin.load.errors import DataImportError
from twin.load.geometry import linear, prepare_geometry
from twin.load.reader import read_source
from twin.load.report import ImportReport

if TYPE_CHECKING:
    from pathlib import Path

    import psycopg

    from shapely.geometry.base import BaseGeometry

    from twin.crs import Crs
    from twin.load.reader import SourceFile, SourceRow

KINDS = ("admin", "roads", "buildings")


def _note_declared_crs(source: SourceFile, crs: Crs, report: ImportReport) -> None:
    declared = source.declared_crs
    if declared is not None and declared.upper() != str(crs).upper():
        report.note(0, f"the file says its CRS is {declared}; the declared --crs {crs} was used")


def import_file(
    conn: psycopg.Connection[Any],
    kind: str,
    path: Path,
    crs: Crs,
    *,
    layer: str | None = None,
    mapping: dict[str, str] | None = None,
) -> ImportReport:
    """Import a file of administrative units, roads or buildings; the caller commits.

    Parameters
    ----------
    conn
        A connection outside autocommit: the import is one transaction, the caller's.
    kind
        ``admin``, ``roads`` or ``buildings``.
    path
        GeoJSON, GeoPackage, Shapefile (``.shp`` or zipped), GeoParquet or CSV.
    crs
        The file's CRS, as the user declares it (:func:`twin.crs.parse_crs`).
    layer
        The layer of a GeoPackage with several.
    mapping
        Our field name → the file's column name (fields: :data:`twin.load.common.FIELDS`).

    Returns
    -------
    ImportReport
        Rows accepted, updated, repaired and rejected, with a reason per row.

    Raises
    ------
    DataImportError
        When the file cannot be read at all or lacks a required column; nothing is written.
    """
    store = {"admin": _import_admin, "roads": _import_roads, "buildings": import_buildings}
    if kind not in store:
        raise DataImportError(f"cannot import {kind!r}: choose one of {', '.join(KINDS)}")
    if conn.autocommit:
        raise DataImportError("an import runs in one transaction: pass a non-autocommit connection")
    source = read_source(path, layer)
    columns = resolve_columns(kind, source.columns, mapping or {})
    report = ImportReport(kind, rows=len(source.rows))
    _note_declared_crs(source, crs, report)
    conn.execute("SELECT set_config('twin.reason', %s, true)", (f"twin import {kind} {path}",))
    want = "lines" if kind == "roads" else "polygons"
    prepared = ((r, prepare_geometry(r, crs, want, report)) for r in source.rows)
    items = [(r, g) for r, g in prepared if g is not None]
    store[kind](conn, items, columns, report, path.name)
    return report


def _admin_code(row: SourceRow, columns: Columns, report: ImportReport) -> str | None:
    try:
        code = validate(value(row, columns, "code"))
        level = level_of(code)
    except CodeError as exc:
        report.reject(row.number, "code", str(exc))
        return None
    if level not in (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID):
        report.reject(row.number, "code", f"{code} is a {level.value} code, not an admin unit")
        return None
    return code


_UPSERT_UNIT = """
INSERT INTO twin.admin_unit AS u (code, level, name, parent_code, geom, source, attrs)
VALUES (%(code)s, %(level)s, %(name)s, %(parent)s, ST_Multi(ST_GeomFromWKB(%(g)s, 4326)),
        'import', %(attrs)s)
ON CONFLICT (code) DO UPDATE SET
    geom = excluded.geom, is_generated = false,
    attrs = (u.attrs - 'geometry_generated') || excluded.attrs
        || CASE WHEN u.name <> excluded.name
                THEN jsonb_build_object('imported_name', excluded.name) ELSE '{}' END
RETURNING xmax <> 0
"""

_SHARE_IN_PARENT = """
SELECT ST_Area(ST_Intersection(c.geom, p.geom)) / nullif(ST_Area(c.geom), 0)
FROM twin.admin_unit AS c JOIN twin.admin_unit AS p ON p.code = c.parent_code
WHERE c.code = %s AND p.geom IS NOT NULL
"""


def _import_admin(
    conn: psycopg.Connection[Any],
    items: list[Item],
    columns: Columns,
    report: ImportReport,
    file: str,
) -> None:
    """Store units, parents before children (whatever the file's order); names kept."""
    first_row: dict[str, int] = {}
    todo: list[tuple[str, SourceRow, BaseGeometry]] = []
    for row, geom in items:
        code = _admin_code(row, columns, report)
        if code is None:
            continue
        if not value(row, columns, "name"):
            report.reject(row.number, "name", "missing name")
        elif code in first_row:
            report.reject(row.number, "code", f"duplicate code {code} (row {first_row[code]})")
        else:
            first_row[code] = row.number
            todo.append((code, row, geom))
    for code, row, geom in sorted(todo, key=lambda t: (len(t[0]), t[1].number)):
        up = parent(code)
        known = (
            up is None
            or conn.execute("SELECT 1 FROM twin.admin_unit WHERE code = %s", (up,)).fetchone()
        )
        if not known:
            report.reject(row.number, "code", f"unknown parent {up}: load or import it first")
            continue
        params = {
            "code": code,
            "level": level_of(code).value,
            "name": value(row, columns, "name"),
            "parent": up,
            "g": shapely.to_wkb(geom),
            "attrs": Jsonb({"imported_from": file, "imported_row": row.number}),
        }
        done = write_row(conn, report, [row.number], _UPSERT_UNIT, params)
        if done is not None:
            report.accepted += 1
            report.updated += bool(done[0])
            _note_outside_parent(conn, code, row.number, report)


def _note_outside_parent(
    conn: psycopg.Connection[Any], code: str, row: int, report: ImportReport
) -> None:
    share = conn.execute(_SHARE_IN_PARENT, (code,)).fetchone()
    if share is not None and share[0] is not None and share[0] < 0.5:
        report.note(row, f"only {share[0]:.0%} of {code} lies inside its parent {parent(code)}")


_DISTRICT_OF = """
WITH road AS (SELECT ST_GeomFromWKB(%s, 4326) AS g)
SELECT u.code FROM twin.admin_unit AS u, road
WHERE u.level = 'district' AND u.geom && road.g AND ST_Intersects(u.geom, road.g)
ORDER BY ST_Length(ST_Intersection(u.geom, road.g)) DESC, u.code
LIMIT 1
"""

_UPSERT_ROAD = """
INSERT INTO twin.road AS r (name, road_class, district_code, geom, source, attrs)
VALUES (%(name)s, %(class)s, %(district)s, ST_Multi(ST_GeomFromWKB(%(g)s, 4326)), 'import',
        %(attrs)s)
ON CONFLICT (district_code, name) DO UPDATE SET
    geom = excluded.geom, road_class = coalesce(excluded.road_class, r.road_class),
    is_generated = false, attrs = r.attrs || excluded.attrs
RETURNING xmax <> 0
"""


def _import_roads(
    conn: psycopg.Connection[Any],
    items: list[Item],
    columns: Columns,
    report: ImportReport,
    file: str,
) -> None:
    """Store roads; segments of one name in one district are merged into one road."""
    groups: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for row, geom in items:
        name = value(row, columns, "name")
        if not name:
            report.reject(row.number, "name", "missing road name")
            continue
        district = conn.execute(_DISTRICT_OF, (shapely.to_wkb(geom),)).fetchone()
        if district is None:
            report.reject(row.number, "geometry", "the road lies in no loaded district")
            continue
        groups[(str(district[0]), name)].append((row, geom))
    for (district, name), members in groups.items():
        numbers = [row.number for row, _ in members]
        merged = linear(shapely.line_merge(shapely.union_all([g for _, g in members])))
        if len(members) > 1:
            report.note(numbers[0], f"rows {', '.join(map(str, numbers))} merged into {name}")
        params = {
            "name": name,
            "class": next((c for r, _ in members if (c := value(r, columns, "class"))), None),
            "district": district,
            "g": shapely.to_wkb(merged),
            "attrs": Jsonb({"imported_from": file, "imported_rows": numbers}),
        }
        done = write_row(conn, report, numbers, _UPSERT_ROAD, params)
        if done is not None:
            report.accepted += len(members)
            report.updated += len(members) if done[0] else 0
