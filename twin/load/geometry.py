"""Geometries on the way in: reprojected to WGS84, checked to lie in China, repaired, shaped."""

from __future__ import annotations

from typing import TYPE_CHECKING

import shapely
from shapely import LineString, MultiLineString, MultiPolygon, Polygon

from twin.crs import WGS84, Crs, is_in_china, transform_geometry

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from twin.load.reader import SourceRow
    from twin.load.report import ImportReport


def polygonal(geom: BaseGeometry) -> MultiPolygon | None:
    """Return the polygons of a geometry as one valid MultiPolygon (None if it has none).

    Examples
    --------
    >>> from shapely import GeometryCollection, Point, box
    >>> polygonal(GeometryCollection([box(0, 0, 1, 1), Point(5, 5)])).geom_type
    'MultiPolygon'
    >>> polygonal(Point(0, 0)) is None
    True
    """
    parts: list[Polygon] = []
    for g in getattr(geom, "geoms", [geom]):
        if isinstance(g, Polygon) and not g.is_empty:
            parts.append(g)
        elif isinstance(g, MultiPolygon):
            parts.extend(p for p in g.geoms if not p.is_empty)
    if not parts:
        return None
    multi = MultiPolygon(parts)
    if not multi.is_valid:  # parts of a valid collection may still touch along an edge
        merged = shapely.union_all(parts)
        multi = MultiPolygon(getattr(merged, "geoms", [merged]))
    return multi


def linear(geom: BaseGeometry) -> MultiLineString | None:
    """Return the lines of a geometry as one MultiLineString (None if it has none)."""
    parts: list[LineString] = []
    for g in getattr(geom, "geoms", [geom]):
        if isinstance(g, LineString) and not g.is_empty:
            parts.append(g)
        elif isinstance(g, MultiLineString):
            parts.extend(p for p in g.geoms if not p.is_empty)
    return MultiLineString(parts) if parts else None


def _outside_china(geom: BaseGeometry) -> tuple[float, float] | None:
    """Return a corner of the bounds outside China (or not a number), or None."""
    xmin, ymin, xmax, ymax = geom.bounds
    for x, y in ((xmin, ymin), (xmax, ymax)):
        if not bool(is_in_china(x, y)):
            return x, y
    return None


def prepare_geometry(
    row: SourceRow, crs: Crs, want: str, report: ImportReport
) -> BaseGeometry | None:
    """Reproject, check, repair and shape one row's geometry.

    Parameters
    ----------
    row
        The row as read.
    crs
        The file's declared CRS.
    want
        ``"polygons"`` or ``"lines"``: what the target table stores.
    report
        Receives the row's repair or rejection.

    Returns
    -------
    shapely.geometry.base.BaseGeometry or None
        A valid 2D MultiPolygon or MultiLineString in WGS84, or None when the row was rejected.
    """
    if row.problem:
        report.reject(row.number, "geometry", row.problem)
        return None
    geom = row.geometry
    if geom is None or geom.is_empty:
        report.reject(row.number, "geometry", "empty or missing geometry")
        return None
    geom = shapely.force_2d(transform_geometry(geom, crs, WGS84))
    corner = _outside_china(geom)
    if corner is not None:
        report.reject(
            row.number,
            "geometry",
            f"coordinates ({corner[0]:.4f}, {corner[1]:.4f}) lie outside China after "
            f"conversion from {crs}: is --crs right?",
        )
        return None
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        geom = shapely.make_valid(geom)
        report.repaired.append((row.number, f"invalid geometry made valid ({reason})"))
    shaped = linear(geom) if want == "lines" else polygonal(geom)
    if shaped is None:
        if report.repaired and report.repaired[-1][0] == row.number:
            report.repaired.pop()
        report.reject(row.number, "geometry", f"{geom.geom_type} holds no {want}")
        return None
    return shaped
