"""Read rows with geometries from GeoJSON, GeoPackage, Shapefile, GeoParquet or CSV.

Every reader returns :class:`SourceRow` objects numbered from 1 as a user counts data rows,
with the attributes as strings and the geometry as read (not yet reprojected or repaired).
A file that cannot be read at all raises :class:`~twin.load.errors.DataImportError` with one
sentence; a row that is odd comes back with ``problem`` set, to be reported, not raised.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twin.load.errors import DataImportError

if TYPE_CHECKING:
    from pathlib import Path

    from shapely.geometry.base import BaseGeometry

VECTOR_SUFFIXES = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".zip": "zipped Shapefile",
}
PARQUET_SUFFIXES = {".parquet", ".geoparquet"}
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "shape")
LON_COLUMNS = ("lon", "lng", "longitude", "x", "经度")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度")


@dataclass
class SourceRow:
    """One data row of an input file."""

    number: int
    attrs: dict[str, str]
    geometry: BaseGeometry | None
    problem: str | None = None


def decode_text(raw: bytes, path: Path) -> str:
    """Decode CSV bytes: UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataImportError(f"{path} is neither UTF-8 nor GBK text: save it as UTF-8 CSV")


def _clean(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _pick(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.lower().strip(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def read_csv(path: Path) -> list[SourceRow]:
    """Read a CSV with a WKT column or lon/lat columns."""
    import shapely

    text = decode_text(path.read_bytes(), path)
    reader = csv.DictReader(io.StringIO(text))
    columns = list(reader.fieldnames or [])
    wkt, lon, lat = (
        _pick(columns, WKT_COLUMNS),
        _pick(columns, LON_COLUMNS),
        _pick(columns, LAT_COLUMNS),
    )
    if wkt is None and (lon is None or lat is None):
        raise DataImportError(
            f"{path} has no geometry column: name one wkt/geometry, or give lon and lat columns"
        )
    rows: list[SourceRow] = []
    for number, rec in enumerate(reader, start=1):
        attrs = {k: _clean(v) for k, v in rec.items() if k is not None}
        try:
            if wkt is not None:
                geom = shapely.from_wkt(attrs[wkt]) if attrs[wkt] else None
            else:
                geom = shapely.Point(float(attrs[lon or ""]), float(attrs[lat or ""]))
            rows.append(SourceRow(number, attrs, geom))
        except (ValueError, shapely.errors.GEOSException) as exc:
            field = wkt or f"{lon}/{lat}"
            rows.append(SourceRow(number, attrs, None, f"field {field}: unreadable ({exc})"))
    return rows


def read_vector(path: Path, layer: str | None) -> list[SourceRow]:
    """Read GeoJSON, GeoPackage, Shapefile (plain or zipped) or GeoParquet with geopandas."""
    import geopandas

    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            frame = geopandas.read_parquet(path)
        else:
            target = f"zip://{path}" if path.suffix.lower() == ".zip" else str(path)
            frame = geopandas.read_file(target, layer=layer, engine="pyogrio")
    except Exception as exc:  # the drivers raise many types for a broken file
        kind = VECTOR_SUFFIXES.get(path.suffix.lower(), "GeoParquet")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataImportError(f"{path} is not a readable {kind} file: {first}") from exc
    columns = [c for c in frame.columns if c != frame.geometry.name]
    rows = []
    for number, (geom, *values) in enumerate(
        zip(frame.geometry, *(frame[c] for c in columns), strict=True), start=1
    ):
        attrs = {c: _clean(v) for c, v in zip(columns, values, strict=True)}
        rows.append(SourceRow(number, attrs, None if geom is None else geom))
    return rows


def read_rows(path: Path, layer: str | None = None) -> list[SourceRow]:
    """Read any supported file; refuse empty files and unknown formats with one sentence."""
    if not path.is_file():
        raise DataImportError(f"{path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise DataImportError(f"{path} is empty")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = read_csv(path)
    elif suffix in VECTOR_SUFFIXES or suffix in PARQUET_SUFFIXES:
        rows = read_vector(path, layer)
    else:
        raise DataImportError(
            f"{path}: unknown format {suffix!r}; use .geojson, .gpkg, .shp, "
            ".zip (Shapefile), .parquet or .csv"
        )
    if not rows:
        raise DataImportError(f"{path} holds no rows")
    return rows
