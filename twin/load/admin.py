"""Load the real administrative reference data of Shenzhen into ``twin.admin_unit``.

Sources (``data/admin/``, see ``data/README.md`` for provenance and licences):

- ``sz_areas.csv``, ``sz_streets.csv``, ``sz_villages.csv``: the national statistical division
  codes (2023) of the 9 districts, 79 street-level and 788 community-level units;
- ``sz_districts_wgs84.geojson``: district outlines in WGS84, Dapeng New Area separate;
- ``functional_areas.csv``: functional areas (Dapeng) with their district, outline and streets.

Streets and communities have no public outlines: they are loaded with no geometry (the demo
generator or ``twin import admin`` supplies them). A district's geometry is its own outline
joined with the outlines of its functional areas (Longgang = Longgang ∪ Dapeng).
Everything happens in one transaction, and reloading updates rows without duplicating them
or erasing geometries that were added later.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.crs import SHENZHEN_BBOX_WGS84
from twin.load.errors import ReferenceDataError

if TYPE_CHECKING:
    import psycopg

    from shapely.geometry.base import BaseGeometry

#: The project's reference data, beside the packages (``data/admin``).
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "admin"
SOURCE = "national statistical division codes 2023 (china-division 2.7.0, WTFPL)"
#: Provenance written into every unit's attrs.
CODES_ATTRS = {"source": "china-division 2.7.0 (npm), statistical codes 2023", "licence": "WTFPL"}
OUTLINE_ATTRS = {
    "outline_source": "transbigdata (ni1o1) gallery data, sz_districts_with_dapeng.json",
    "outline_licence": "BSD-3-Clause",
}
OUTLINE_SOURCE = "transbigdata district outlines (BSD-3)"
#: Committee suffixes dropped from community names for display (the full name stays in attrs).
_COMMITTEE = re.compile(r"(社区)?(居民委员会|居委会|居委|村民委员会|村委会)$")


@dataclass
class AdminLoadReport:
    """What ``load_admin`` stored, and what it could not place."""

    districts: int = 0
    streets: int = 0
    communities: int = 0
    functional_areas: int = 0
    outlines: int = 0
    orphans: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Return human-readable lines: the counts first, then what was not loaded."""
        out = [
            f"districts {self.districts} (outlines {self.outlines}), streets {self.streets}, "
            f"communities {self.communities}, functional areas {self.functional_areas}"
        ]
        out += [f"not loaded: {o}" for o in self.orphans]
        out += [f"note: {n}" for n in self.notes]
        return out


def short_community_name(full: str) -> str:
    """Drop the committee suffix of a community's official name.

    Examples
    --------
    >>> short_community_name("大塘龙社区居民委员会")
    '大塘龙社区'
    >>> short_community_name("深圳市宝安国际机场虚拟社区")
    '深圳市宝安国际机场虚拟社区'
    """
    stripped = _COMMITTEE.sub("", full)
    if stripped != full and not stripped.endswith(("社区", "村")):
        stripped += "社区"
    return stripped or full


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))
    except OSError as exc:
        raise ReferenceDataError(f"cannot read reference file {path}: {exc}") from exc


def _multipolygon(geometry: dict[str, Any]) -> BaseGeometry:
    from shapely import make_valid
    from shapely.geometry import shape

    from twin.load.geometry import polygonal

    shaped = polygonal(make_valid(shape(geometry)))
    if shaped is None:
        raise ReferenceDataError("a district outline holds no polygon")
    return shaped


def read_outlines(data_dir: Path) -> dict[str, BaseGeometry]:
    """Return the outlines by name (``宝安区``, ``大鹏新区``...), valid MultiPolygons.

    Raises
    ------
    ReferenceDataError
        When the file cannot be read or an outline's centroid lies outside Shenzhen.
    """
    path = data_dir / "sz_districts_wgs84.geojson"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReferenceDataError(f"cannot read district outlines {path}: {exc}") from exc
    outlines = {f["properties"]["name"]: _multipolygon(f["geometry"]) for f in doc["features"]}
    west, south, east, north = SHENZHEN_BBOX_WGS84
    for name, geom in outlines.items():
        c = geom.centroid
        if not (west < c.x < east and south < c.y < north):
            raise ReferenceDataError(f"the outline of {name} lies outside Shenzhen ({c.x}, {c.y})")
    return outlines


Unit = tuple[str, str, str, "str | None", dict[str, str]]


def _unit_rows(data_dir: Path, report: AdminLoadReport) -> list[Unit]:
    """Return (code, level, name, parent, attrs) for every unit whose parent is known."""
    rows: list[Unit] = []
    known: set[str] = set()
    for r in _read_csv(data_dir / "sz_areas.csv"):
        rows.append((r["code"], "district", r["name"], None, dict(CODES_ATTRS)))
        known.add(r["code"])
    for level, file, parent_key in (
        ("street", "sz_streets.csv", "areaCode"),
        ("community", "sz_villages.csv", "streetCode"),
    ):
        for r in _read_csv(data_dir / file):
            if r[parent_key] not in known or not r["code"].startswith(r[parent_key]):
                report.orphans.append(
                    f"{level} {r['code']} {r['name']}: parent {r[parent_key]} "
                    "is not among the loaded units (or not its code's prefix)"
                )
                continue
            name = short_community_name(r["name"]) if level == "community" else r["name"]
            attrs = {"official_name": r["name"], **CODES_ATTRS}
            rows.append((r["code"], level, name, r[parent_key], attrs))
            known.add(r["code"])
    return rows


_COUNTERS = {"district": "districts", "street": "streets", "community": "communities"}

_UPSERT_UNIT = """
INSERT INTO twin.admin_unit (code, level, name, parent_code, geom, source, attrs)
VALUES (%s, %s, %s, %s, ST_Multi(ST_MakeValid(ST_GeomFromWKB(%s, 4326))), %s, %s)
ON CONFLICT (code) DO UPDATE SET
    name = excluded.name, parent_code = excluded.parent_code, source = excluded.source,
    geom = coalesce(excluded.geom, twin.admin_unit.geom),
    attrs = twin.admin_unit.attrs || excluded.attrs
"""


def _district_outline(
    code: str, name: str, outlines: dict[str, BaseGeometry], areas: list[dict[str, str]]
) -> bytes | None:
    """Return the district's outline joined with its functional areas' (WKB), or None."""
    from shapely import to_wkb, unary_union

    if name not in outlines:
        return None
    extra = [outlines[a["outline_name"]] for a in areas if a["district_code"] == code]
    return bytes(to_wkb(unary_union([outlines[name], *extra])))


def _store_units(
    conn: psycopg.Connection[Any],
    rows: list[Unit],
    outlines: dict[str, BaseGeometry],
    areas: list[dict[str, str]],
    report: AdminLoadReport,
) -> None:
    from psycopg.types.json import Jsonb

    with conn.cursor() as cur:
        for code, level, name, parent, attrs in rows:
            geom = _district_outline(code, name, outlines, areas) if level == "district" else None
            if level == "district" and geom is None:
                report.notes.append(f"district {code} {name} has no outline")
            elif geom is not None:
                attrs = attrs | OUTLINE_ATTRS
                report.outlines += 1
            cur.execute(_UPSERT_UNIT, (code, level, name, parent, geom, SOURCE, Jsonb(attrs)))
            counter = _COUNTERS[level]
            setattr(report, counter, getattr(report, counter) + 1)


def load_admin(conn: psycopg.Connection[Any], data_dir: Path | None = None) -> AdminLoadReport:
    """Load districts, streets, communities and functional areas; commit is the caller's.

    Parameters
    ----------
    conn
        An open connection (not in autocommit); everything runs in its transaction.
    data_dir
        Folder of the reference files (default: the project's ``data/admin``).

    Returns
    -------
    AdminLoadReport
        The counts stored, the units not loaded (their parent is unknown) and notes.

    Raises
    ------
    ReferenceDataError
        When a file is missing or unreadable, an outline lies outside Shenzhen, or a
        functional area names an unknown district, outline or street.
    """
    from psycopg.types.json import Jsonb

    data_dir = data_dir or DEFAULT_DATA_DIR
    report = AdminLoadReport()
    outlines = read_outlines(data_dir)
    rows = _unit_rows(data_dir, report)
    areas = _read_csv(data_dir / "functional_areas.csv")
    _check_functional_areas(areas, outlines, rows)
    conn.execute("SELECT set_config('twin.bulk', 'on', true)")
    _store_units(conn, rows, outlines, areas, report)
    _load_functional_areas(conn, areas, outlines, report)
    counts = {k: getattr(report, k) for k in ("districts", "streets", "communities")}
    conn.execute(
        "INSERT INTO twin.audit_log (actor, action, table_name, reason, after) VALUES "
        "(coalesce(nullif(current_setting('twin.actor', true), ''), session_user), "
        "'load', 'admin_unit', 'twin load admin', %s)",
        (Jsonb(counts),),
    )
    conn.execute("SELECT set_config('twin.bulk', 'off', true)")
    return report


def _check_functional_areas(
    areas: list[dict[str, str]], outlines: dict[str, BaseGeometry], rows: list[Unit]
) -> None:
    """Refuse a functional area whose district, outline or streets are not in the data."""
    levels = {code: level for code, level, *_ in rows}
    for a in areas:
        where = f"functional area {a['code']} ({a['name']})"
        if levels.get(a["district_code"]) != "district":
            raise ReferenceDataError(f"{where}: district {a['district_code']} is not loaded")
        if a["outline_name"] not in outlines:
            raise ReferenceDataError(f"{where}: no outline named {a['outline_name']}")
        for street in filter(None, a["street_codes"].split(";")):
            if levels.get(street) != "street" or not street.startswith(a["district_code"]):
                raise ReferenceDataError(
                    f"{where}: {street} is no street of district {a['district_code']}"
                )


def _load_functional_areas(
    conn: psycopg.Connection[Any],
    areas: list[dict[str, str]],
    outlines: dict[str, BaseGeometry],
    report: AdminLoadReport,
) -> None:
    from psycopg.types.json import Jsonb

    from shapely import to_wkb

    for a in areas:
        conn.execute(
            "INSERT INTO twin.functional_area (code, name, district_code, geom, source, attrs) "
            "VALUES (%s, %s, %s, ST_Multi(ST_GeomFromWKB(%s, 4326)), %s, %s) "
            "ON CONFLICT (code) DO UPDATE "
            "SET name = excluded.name, district_code = excluded.district_code, "
            "geom = excluded.geom, source = excluded.source, "
            "attrs = twin.functional_area.attrs || excluded.attrs",
            (
                a["code"],
                a["name"],
                a["district_code"],
                to_wkb(outlines[a["outline_name"]]),
                OUTLINE_SOURCE,
                Jsonb(OUTLINE_ATTRS),
            ),
        )
        streets = [s for s in a["street_codes"].split(";") if s]
        # The listed streets get the link; streets no longer listed lose it.
        conn.execute(
            "UPDATE twin.admin_unit SET functional_area_code = "
            "CASE WHEN code = ANY(%(s)s) THEN %(a)s END "
            "WHERE code = ANY(%(s)s) OR functional_area_code = %(a)s",
            {"s": streets, "a": a["code"]},
        )
        report.functional_areas += 1
