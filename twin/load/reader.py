"""Read rows with geometries from GeoJSON, GeoPackage, Shapefile, GeoParquet or CSV.

Every reader returns :class:`SourceRow` objects numbered from 1 as a user counts data rows
(a CSV's header is not a row, so row 1 is the file's second line), with the attributes as
strings and the geometry as read (not yet reprojected or repaired). A file that cannot be
read at all raises :class:`~twin.load.errors.DataImportError` with one sentence; a row that is
odd comes back with ``problem`` set, to be reported, not raised.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
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
#: Delimiters a CSV may use (Excel in some locales writes semicolons).
_DELIMITERS = (",", ";", "\t")
_SRID_PREFIX = re.compile(r"^\s*SRID=\d+;", re.IGNORECASE)


@dataclass
class SourceRow:
    """One data row of an input file."""

    number: int
    attrs: dict[str, str]
    geometry: BaseGeometry | None
    problem: str | None = None


@dataclass
class SourceFile:
    """The rows of a file, its columns, and the CRS the file itself declares (if any)."""

    rows: list[SourceRow]
    columns: list[str] = field(default_factory=list)
    declared_crs: str | None = None


def decode_text(raw: bytes, path: Path) -> str:
    """Decode CSV bytes: UTF-8 (with or without BOM), else GB18030 (a superset of GBK).

    Examples
    --------
    >>> from pathlib import Path
    >>> decode_text("名称".encode("gbk"), Path("x.csv"))
    '名称'
    """
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


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return max(_DELIMITERS, key=header.count)


def _csv_geometry(
    attrs: dict[str, str], wkt: str | None, lon: str | None, lat: str | None
) -> BaseGeometry | None:
    import shapely

    if wkt is not None:
        text = _SRID_PREFIX.sub("", attrs[wkt])
        return shapely.from_wkt(text) if text else None
    if not attrs[lon or ""] and not attrs[lat or ""]:
        return None
    return shapely.Point(float(attrs[lon or ""]), float(attrs[lat or ""]))


@dataclass
class CsvRows:
    """A CSV's header and rows; a row that could not be read whole has its problem by index."""

    header: list[str]
    rows: list[list[str]]
    problems: dict[int, str] = field(default_factory=dict)


def parse_csv(text: str) -> CsvRows | None:
    r"""Split CSV text into rows without ever losing one; ``None`` for an empty text.

    The delimiter is the commonest of ``,``, ``;`` and tab in the header line. Parsing is
    strict, so that a quote left open is caught on its own line instead of swallowing every
    later line into one cell: that line becomes a row with its problem (its cells split on the
    delimiter) and reading goes on at the next line. A row of the wrong width is padded or
    cut to the header's, with its problem.

    Examples
    --------
    >>> parsed = parse_csv('id,address\n1,"unclosed\n2,宝安区\n')
    >>> parsed.rows, parsed.problems
    ([['1', '"unclosed'], ['2', '宝安区']], {0: 'malformed CSV line 2: unexpected end of data'})
    """
    delimiter = _delimiter(text)
    lines = io.StringIO(text, newline="").readlines()
    try:
        header = next(csv.reader(lines[:1], delimiter=delimiter))
    except StopIteration:
        return None
    except csv.Error as exc:
        raise DataImportError(f"the header cannot be read ({exc})") from None
    out = CsvRows([h.strip() for h in header], [])
    start = 1
    while start < len(lines):
        reader = csv.reader(lines[start:], delimiter=delimiter, strict=True)
        at = 0
        try:
            for cells in reader:
                _add_csv_row(out, cells)
                at = reader.line_num
            break
        except csv.Error as exc:
            bad = start + at
            cells = lines[bad].rstrip("\r\n").split(delimiter)
            _add_csv_row(out, cells, f"line {bad + 1}: {exc}")
            start = bad + 1
    return out


def _add_csv_row(out: CsvRows, cells: list[str], problem: str | None = None) -> None:
    width = len(out.header)
    if not cells:
        return
    if problem is None and len(cells) != width:
        problem = f"line has {len(cells)} fields where the header has {width}"
    if problem is not None:
        out.problems[len(out.rows)] = f"malformed CSV {problem}"
        cells = (cells + [""] * width)[:width]
    out.rows.append(cells)


def read_csv(path: Path) -> SourceFile:
    """Read a CSV with a WKT column (EWKT's ``SRID=n;`` is dropped) or lon/lat columns."""
    import shapely

    parsed = parse_csv(decode_text(path.read_bytes(), path))
    if parsed is None:
        raise DataImportError(f"{path} is empty")
    columns = parsed.header
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
    for i, cells in enumerate(parsed.rows):
        number = i + 1
        attrs = {k: _clean(v) for k, v in zip(columns, cells, strict=True)}
        if i in parsed.problems:
            rows.append(SourceRow(number, attrs, None, parsed.problems[i]))
            continue
        try:
            rows.append(SourceRow(number, attrs, _csv_geometry(attrs, wkt, lon, lat)))
        except (ValueError, shapely.errors.GEOSException) as exc:
            fieldname = wkt or f"{lon}/{lat}"
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            rows.append(SourceRow(number, attrs, None, f"field {fieldname}: unreadable ({first})"))
    return SourceFile(rows, columns)


def _layer(target: str, path: Path, layer: str | None) -> str | None:
    """Check the chosen layer, or pick the only one; several and none chosen is an error."""
    import pyogrio

    names = [str(name) for name, _ in pyogrio.list_layers(target)]
    if layer is not None:
        if layer not in names:
            raise DataImportError(f"{path} has no layer {layer!r} (layers: {', '.join(names)})")
        return layer
    if len(names) > 1:
        raise DataImportError(
            f"{path} has {len(names)} layers ({', '.join(names)}): choose one with --layer"
        )
    return None


def _read_frame(path: Path, layer: str | None) -> Any:
    import geopandas

    if path.suffix.lower() in PARQUET_SUFFIXES:
        return geopandas.read_parquet(path)
    target = f"zip://{path}" if path.suffix.lower() == ".zip" else str(path)
    return geopandas.read_file(target, layer=_layer(target, path, layer), engine="pyogrio")


def read_vector(path: Path, layer: str | None) -> SourceFile:
    """Read GeoJSON, GeoPackage, Shapefile (plain or zipped) or GeoParquet with geopandas."""
    try:
        frame = _read_frame(path, layer)
    except DataImportError:
        raise
    except Exception as exc:  # the drivers raise many types for a broken file
        kind = VECTOR_SUFFIXES.get(path.suffix.lower(), "GeoParquet")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataImportError(f"{path} is not a readable {kind} file: {first}") from exc
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    rows = []
    for number, (geom, *values) in enumerate(
        zip(frame.geometry, *(frame[c] for c in columns), strict=True), start=1
    ):
        attrs = {c: _clean(v) for c, v in zip(columns, values, strict=True)}
        rows.append(SourceRow(number, attrs, None if geom is None else geom))
    declared = None
    if frame.crs is not None:
        epsg = frame.crs.to_epsg()
        declared = f"EPSG:{epsg}" if epsg else str(frame.crs.name)
    return SourceFile(rows, columns, declared)


def read_source(path: Path, layer: str | None = None) -> SourceFile:
    """Read any supported file; refuse missing, empty and unknown files with one sentence.

    Parameters
    ----------
    path
        ``.geojson``/``.json``, ``.gpkg``, ``.shp``, ``.zip`` (a zipped Shapefile),
        ``.parquet``/``.geoparquet`` or ``.csv``.
    layer
        The layer of a file with several (a GeoPackage); a file with one needs none.

    Returns
    -------
    SourceFile
        The rows, the column names and the CRS the file declares, if it declares one.

    Raises
    ------
    DataImportError
        When the file cannot be read at all: missing, empty, truncated, not what its name
        says, several layers and none chosen, or no rows.
    """
    if not path.is_file():
        raise DataImportError(f"{path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise DataImportError(f"{path} is empty")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        source = read_csv(path)
    elif suffix in VECTOR_SUFFIXES or suffix in PARQUET_SUFFIXES:
        source = read_vector(path, layer)
    else:
        raise DataImportError(
            f"{path}: unknown format {suffix!r}; use .geojson, .gpkg, .shp, "
            ".zip (Shapefile), .parquet or .csv"
        )
    if not source.rows:
        raise DataImportError(f"{path} holds no rows")
    return source


def read_rows(path: Path, layer: str | None = None) -> list[SourceRow]:
    """Read any supported file's rows (see :func:`read_source`)."""
    return read_source(path, layer).rows
