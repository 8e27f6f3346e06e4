"""Import and export of the address library as CSV or GeoJSON, with a per-row report."""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

import psycopg

from shapely import Point

from geocode.errors import GeocodeError
from geocode.library.writes import add_alias, create_address
from twin.crs import WGS84, Crs, to_wgs84

if TYPE_CHECKING:
    from pathlib import Path

EXPORT_COLUMNS = (
    "code",
    "level",
    "text",
    "lon",
    "lat",
    "status",
    "version",
    "successors",
    "aliases",
)


@dataclass
class AddressImportReport:
    """Codes given to the accepted rows; reasons for the rejected ones."""

    created: list[tuple[int, str]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _read(path: Path) -> list[tuple[dict[str, Any], str | None]]:
    """Return the file's records, each with the problem that kept it from being read whole."""
    from twin.load.reader import decode_text, parse_csv, read_rows

    if path.suffix.lower() == ".csv":  # lon/lat are optional: no geometry column needed
        parsed = parse_csv(decode_text(path.read_bytes(), path))
        if parsed is None:
            return []
        return [
            (dict(zip(parsed.header, cells, strict=True)), parsed.problems.get(i))
            for i, cells in enumerate(parsed.rows)
        ]
    rows: list[tuple[dict[str, Any], str | None]] = []
    for row in read_rows(path):
        rec: dict[str, Any] = dict(row.attrs)
        if isinstance(row.geometry, Point):
            rec["lon"], rec["lat"] = row.geometry.x, row.geometry.y
        rows.append((rec, row.problem))
    return rows


def _location(rec: dict[str, Any], crs: Crs) -> tuple[float | None, float | None]:
    if not str(rec.get("lon") or "").strip():
        return None, None
    lon, lat = to_wgs84(float(rec["lon"]), float(rec["lat"]), crs)
    return float(lon), float(lat)


def import_addresses(
    conn: psycopg.Connection[Any],
    path: Path,
    *,
    actor: str,
    crs: Crs = WGS84,
    mapping: dict[str, str] | None = None,
) -> AddressImportReport:
    """Create one address per row (codes assigned by the library); the caller commits.

    Columns: ``level, text, parent_code, unit_code, lon, lat, status, aliases`` (aliases
    separated by ``|``); ``mapping`` renames them. A bad row is rolled back alone and reported.
    """
    report = AddressImportReport()
    rename = {v: k for k, v in (mapping or {}).items()}
    for number, (raw, problem) in enumerate(_read(path), start=1):
        rec = {rename.get(k, k): v for k, v in raw.items()}
        if problem is not None:
            report.rejected.append((number, problem))
            continue
        try:
            with conn.transaction():
                lon, lat = _location(rec, crs)
                address = create_address(
                    conn,
                    level=str(rec.get("level", "")).strip(),
                    text=str(rec.get("text", "")),
                    parent_code=str(rec.get("parent_code") or "").strip() or None,
                    unit_code=str(rec.get("unit_code") or "").strip() or None,
                    lon=lon,
                    lat=lat,
                    status=str(rec.get("status") or "collected").strip(),
                    actor=actor,
                )
                for alias in filter(None, str(rec.get("aliases") or "").split("|")):
                    add_alias(conn, address.code, alias, actor=actor, kind="agency")
            report.created.append((number, address.code))
        except (GeocodeError, ValueError, psycopg.errors.DataError) as exc:
            report.rejected.append((number, str(exc)))
    return report


def export_addresses(
    conn: psycopg.Connection[Any],
    path: Path,
    *,
    level: str | None = None,
    as_of: dt.datetime | None = None,
) -> int:
    """Write the library (as of a moment, default now) to CSV or GeoJSON; return the count."""
    sql = (
        resources.files("geocode.library")
        .joinpath("sql", "as_of_all.sql")
        .read_text(encoding="utf-8")
    )
    at = as_of or dt.datetime.now(dt.UTC)
    rows = conn.execute(sql, {"at": at, "level": level}).fetchall()
    if path.suffix.lower() in (".geojson", ".json"):
        features = [
            {
                "type": "Feature",
                "properties": dict(zip(EXPORT_COLUMNS, r, strict=True)),
                "geometry": None
                if r[3] is None
                else {"type": "Point", "coordinates": [r[3], r[4]]},
            }
            for r in rows
        ]
        path.write_text(
            json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
            encoding="utf-8",
        )
    else:
        with path.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(EXPORT_COLUMNS)
            out.writerows(rows)
    return len(rows)
