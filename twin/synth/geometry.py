"""Geometry helpers of the generator: the metric CRS, valid multipolygons, hex EWKB for COPY.

The generator works in Shenzhen's metric CRS (CGCS2000 / 3-degree Gauss-Kruger CM 114E,
EPSG:4547) and stores WGS84 (EPSG:4326), as the schema does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

import shapely
from shapely import MultiPolygon, Polygon

from twin.crs import Crs, from_wgs84, to_wgs84
from twin.load.geometry import polygonal

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shapely.geometry.base import BaseGeometry

#: Shenzhen's metric CRS.
METRIC = Crs("EPSG:4547", 4547, "epsg")


def _to_wgs84_coords(coords: np.ndarray) -> np.ndarray:
    lon, lat = to_wgs84(coords[:, 0], coords[:, 1], METRIC)
    return np.column_stack([lon, lat])


def _to_metric_coords(coords: np.ndarray) -> np.ndarray:
    x, y = from_wgs84(coords[:, 0], coords[:, 1], METRIC)
    return np.column_stack([x, y])


def to_metric(geom: BaseGeometry) -> BaseGeometry:
    """Reproject a geometry from WGS84 to EPSG:4547 (metres), polygons kept valid.

    Reprojection can make a valid polygon that nearly touches itself cross itself; such a
    polygon is repaired (centimetres of change at the defect).
    """
    out = shapely.transform(geom, _to_metric_coords)
    if isinstance(out, Polygon | MultiPolygon) and not out.is_valid:
        return as_multipolygon(out)
    return out


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Keep the polygonal parts of a geometry as a valid MultiPolygon (possibly empty).

    Examples
    --------
    >>> bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> out = as_multipolygon(bowtie)
    >>> out.is_valid, round(out.area, 6)
    (True, 2.0)
    """
    return polygonal(shapely.make_valid(geom)) or MultiPolygon()


def hex_ewkb(geoms: Sequence[BaseGeometry], *, metric: bool = True) -> list[str]:
    """Return WGS84 hex EWKB (SRID 4326) of metric geometries, in one reprojection.

    With ``metric=False`` the geometries are WGS84 already and are not reprojected.

    Polygons become valid MultiPolygons, as the schema's polygon columns require.

    Examples
    --------
    >>> from shapely import Point
    >>> hex_ewkb([Point(500000.0, 2500000.0)])[0][:18]
    '0101000020E6100000'
    """
    if not geoms:
        return []
    arr = np.asarray(geoms, dtype=object)
    if metric:
        arr = shapely.transform(arr, _to_wgs84_coords)
    polygonal = shapely.get_type_id(arr) == 3
    for i in np.flatnonzero(polygonal):
        arr[i] = MultiPolygon([arr[i]])
    multi = shapely.get_type_id(arr) == 6
    bad = multi & ~shapely.is_valid(arr)
    for i in np.flatnonzero(bad):
        arr[i] = as_multipolygon(arr[i])
    arr = shapely.set_srid(arr, 4326)
    return [str(h) for h in shapely.to_wkb(arr, hex=True, include_srid=True)]
