"""Files in and out of entity coding.

In: GeoJSON, GeoPackage, Shapefile, GeoParquet or CSV (WKT or lon/lat columns), with a
declared CRS. Out: a report of one line or feature per input row, as CSV or GeoJSON.
"""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING, Any

import numpy as np

import shapely
from shapely.geometry import mapping, shape

from blocks.coding.model import CodingResult, EntityItem
from blocks.errors import CodingInputError
from twin.crs import WGS84, parse_crs, to_wgs84
from twin.load.reader import read_rows

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from numpy.typing import NDArray

    from twin.crs import Crs
    from twin.load.reader import SourceRow

#: Columns of the report, in order.
REPORT_COLUMNS = (
    "row",
    "source_id",
    "status",
    "code",
    "previous_code",
    "community_code",
    "class_code",
    "beidou_code",
    "problems",
)


def _to_wgs84(geoms: NDArray[Any], crs: Crs) -> NDArray[Any]:
    if crs == WGS84 or not len(geoms):
        return geoms

    def convert(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], crs)
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(geoms, convert), dtype=object)


def _check_columns(rows: list[SourceRow], columns: dict[str, str | None]) -> None:
    present = set(rows[0].attrs) if rows else set()
    for option, column in columns.items():
        if column is not None and column not in present:
            raise CodingInputError(
                f"{option} {column!r} is not a column of the file "
                f"(columns: {', '.join(sorted(present)) or 'none'})"
            )


def read_items(
    path: Path,
    *,
    crs: str = "EPSG:4326",
    id_column: str | None = None,
    class_column: str | None = None,
    name_column: str | None = None,
    layer: str | None = None,
) -> list[EntityItem]:
    """Read a file of entities into items, converted to WGS84.

    Raises
    ------
    CodingInputError
        When a named column is missing.
    twin.load.errors.DataImportError
        When the file cannot be read at all.
    twin.errors.CrsError
        When the CRS is unknown.
    """
    source_crs = parse_crs(crs)
    rows = read_rows(path, layer)
    options = {"--id-column": id_column, "--class-column": class_column}
    _check_columns(rows, options | {"--name-column": name_column})
    raw = np.empty(len(rows), dtype=object)
    raw[:] = [r.geometry for r in rows]
    present = np.array([g is not None for g in raw], dtype=bool)
    geoms = raw.copy()
    geoms[present] = _to_wgs84(raw[present], source_crs)

    def attr(row: SourceRow, column: str | None) -> str | None:
        return (row.attrs.get(column) or None) if column else None

    return [
        EntityItem(
            r.number,
            g,
            attr(r, id_column),
            attr(r, class_column),
            attr(r, name_column),
            r.problem,
        )
        for r, g in zip(rows, geoms, strict=True)
    ]


def items_from_features(
    features: Sequence[dict[str, Any]],
    *,
    crs: str = "EPSG:4326",
    id_property: str = "source_id",
    class_property: str = "class",
    name_property: str = "name",
) -> list[EntityItem]:
    """Turn GeoJSON features (as parsed JSON) into items numbered from 1, converted to WGS84.

    A feature whose geometry is missing or unreadable becomes an item with a ``problem``, so
    that it is reported in its row and the others are coded.

    Raises
    ------
    twin.errors.CrsError
        When the CRS is unknown.
    """
    source_crs = parse_crs(crs)
    raw = np.empty(len(features), dtype=object)
    problems: list[str | None] = [None] * len(features)
    for i, feature in enumerate(features):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict):
            problems[i] = "field geometry: missing (a GeoJSON geometry object is needed)"
            continue
        try:
            raw[i] = shape(geometry)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            problems[i] = f"field geometry: unreadable ({exc or type(exc).__name__})"
    present = np.array([g is not None for g in raw], dtype=bool)
    geoms = raw.copy()
    geoms[present] = _to_wgs84(raw[present], source_crs)

    def prop(feature: Any, key: str) -> str | None:
        props = feature.get("properties") if isinstance(feature, dict) else None
        value = props.get(key) if isinstance(props, dict) else None
        return None if value is None or value == "" else str(value)

    return [
        EntityItem(
            n,
            g,
            prop(f, id_property),
            prop(f, class_property),
            prop(f, name_property),
            problem,
        )
        for n, (f, g, problem) in enumerate(zip(features, geoms, problems, strict=True), start=1)
    ]


def write_report(path: Path, items: Sequence[EntityItem], results: Sequence[CodingResult]) -> None:
    """Write one line (CSV) or feature (GeoJSON, with the input geometry) per row.

    Raises
    ------
    CodingInputError
        For an output name that is neither ``.csv`` nor ``.geojson``/``.json``.
    """
    suffix = path.suffix.lower()
    records = [{k: r.as_dict()[k] for k in REPORT_COLUMNS} for r in results]
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=REPORT_COLUMNS)
            writer.writeheader()
            writer.writerows(records)
    elif suffix in (".geojson", ".json"):
        features = [
            {
                "type": "Feature",
                "geometry": mapping(item.geometry) if item.geometry else None,
                "properties": rec,
            }
            for item, rec in zip(items, records, strict=True)
        ]
        doc = {"type": "FeatureCollection", "features": features}
        path.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        raise CodingInputError(f"{path}: write the report as .csv or .geojson")
