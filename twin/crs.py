"""Coordinate reference systems: GCJ-02 and BD-09 (which PROJ does not know) and EPSG via pyproj.

Chinese web maps publish coordinates in GCJ-02 (Amap, Tencent: WGS84 plus a deliberate,
non-linear offset of a few hundred metres) or BD-09 (Baidu: GCJ-02 plus a further offset).
Official data is CGCS2000 (EPSG:4490), within centimetres of WGS84; metric work in Shenzhen
uses CGCS2000 / 3-degree Gauss-Kruger CM 114E (EPSG:4547).

The forward GCJ-02 transform is the widely published polynomial on the Krasovsky ellipsoid.
Its inverse has no closed form: we iterate the forward transform (fixed point) until the
residual is below 1e-9 degrees (about 0.1 mm), so round trips are exact to far below a
centimetre, unlike the common one-step approximation (errors of 1-2 m).

Points outside China get no offset, as every implementation does (the obfuscation applies in
China only): see :func:`is_in_china`. Axis order is always (lon, lat) / (x, y).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from twin.errors import CrsError

if TYPE_CHECKING:
    from pyproj import Transformer
    from shapely.geometry.base import BaseGeometry

Floats = NDArray[np.float64]

#: Krasovsky 1940 ellipsoid, on which the GCJ-02 offset is defined.
_A = 6378245.0
_EE = 0.00669342162296594323
#: Baidu's rotation constant.
_X_PI = math.pi * 3000.0 / 180.0
#: Inverse transforms iterate until the residual is below this (degrees, ~0.1 mm).
_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 30

#: WGS84 bounding box of Shenzhen, Dapeng included, with a margin (west, south, east, north).
SHENZHEN_BBOX_WGS84 = (113.70, 22.38, 114.68, 22.88)
#: CGCS2000 / 3-degree Gauss-Kruger CM 114E: Shenzhen's metric CRS.
METRIC_EPSG = 4547


@dataclass(frozen=True)
class Crs:
    """A coordinate reference system as an import command declares it.

    Attributes
    ----------
    name
        Canonical spelling (``EPSG:4547``, ``gcj02``, ``bd09``).
    epsg
        The EPSG code for ``kind == "epsg"``, else ``None``.
    kind
        ``"epsg"``, ``"gcj02"`` or ``"bd09"``.
    """

    name: str
    epsg: int | None
    kind: Literal["epsg", "gcj02", "bd09"]

    def __str__(self) -> str:
        return self.name


WGS84 = Crs("EPSG:4326", 4326, "epsg")
GCJ02 = Crs("gcj02", None, "gcj02")
BD09 = Crs("bd09", None, "bd09")
_ALIASES = {
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "gcj": GCJ02,
    "bd09": BD09,
    "bd-09": BD09,
    "wgs84": WGS84,
    "wgs-84": WGS84,
    "cgcs2000": Crs("EPSG:4490", 4490, "epsg"),
}
_EPSG = re.compile(r"^(?:epsg:)?(\d{4,6})$")


def parse_crs(text: str | int) -> Crs:
    """Parse a CRS as users write it.

    Raises
    ------
    CrsError
        Naming what was given and what is accepted.

    Examples
    --------
    >>> parse_crs("EPSG:4547")
    Crs(name='EPSG:4547', epsg=4547, kind='epsg')
    >>> str(parse_crs("GCJ-02")), str(parse_crs(4326))
    ('gcj02', 'EPSG:4326')
    """
    key = str(text).strip().lower().replace(" ", "")
    if key in _ALIASES:
        return _ALIASES[key]
    match = _EPSG.match(key)
    if match:
        code = int(match.group(1))
        _transformer(code, 4326)  # raises CrsError for codes PROJ does not know
        return Crs(f"EPSG:{code}", code, "epsg")
    raise CrsError(
        f"unknown coordinate system {str(text)!r}: give an EPSG code (EPSG:4326, 4490, 4547, "
        "...), gcj02 or bd09"
    )


def is_in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points lie in the rectangle where GCJ-02 applies its offset.

    Examples
    --------
    >>> bool(is_in_china(114.05, 22.54)), bool(is_in_china(2.35, 48.85))
    (True, False)
    """
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    return (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)


def _offset(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """GCJ-02 offset (degrees) at WGS84 points, zero outside China."""
    x, y = lon - 105.0, lat - 35.0
    sx = np.sqrt(np.abs(x))
    wave = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx
    dlat += (wave + 20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx
    dlon += (wave + 20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    inside = is_in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    return np.broadcast_arrays(x, y)  # type: ignore[return-value]


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """Convert WGS84 to GCJ-02.

    Examples
    --------
    >>> x, y = wgs84_to_gcj02(114.0579, 22.5431)
    >>> round(float(x), 6), round(float(y), 6)
    (114.063014, 22.540383)
    """
    x, y = _arrays(lon, lat)
    dx, dy = _offset(x, y)
    return x + dx, y + dy


def _invert(forward: object, lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """Invert a forward transform by fixed-point iteration: p ← p - (f(p) - target)."""
    tx, ty = _arrays(lon, lat)
    x, y = tx.copy(), ty.copy()
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)  # type: ignore[operator]
        ex, ey = fx - tx, fy - ty
        x, y = x - ex, y - ey
        if (
            float(np.max(np.abs(ex), initial=0.0)) < _TOLERANCE_DEG
            and float(np.max(np.abs(ey), initial=0.0)) < _TOLERANCE_DEG
        ):
            break
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """Convert GCJ-02 to WGS84 (iterative inverse, exact to ~0.1 mm).

    Examples
    --------
    >>> x, y = gcj02_to_wgs84(*wgs84_to_gcj02(114.0579, 22.5431))
    >>> round(float(x), 7), round(float(y), 7)
    (114.0579, 22.5431)
    """
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """Convert GCJ-02 to BD-09."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """Convert BD-09 to GCJ-02 (iterative inverse)."""
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """Convert WGS84 to BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """Convert BD-09 to WGS84.

    Examples
    --------
    >>> x, y = bd09_to_wgs84(*wgs84_to_bd09(113.88, 22.56))
    >>> round(float(x), 7), round(float(y), 7)
    (113.88, 22.56)
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


@lru_cache(maxsize=64)
def _transformer(src_epsg: int, dst_epsg: int) -> Transformer:
    from pyproj import Transformer
    from pyproj.exceptions import CRSError as ProjCrsError

    try:
        return Transformer.from_crs(src_epsg, dst_epsg, always_xy=True)
    except ProjCrsError as exc:
        raise CrsError(
            f"EPSG:{src_epsg} or EPSG:{dst_epsg} is not a known coordinate system"
        ) from exc


def to_wgs84(x: ArrayLike, y: ArrayLike, crs: Crs) -> tuple[Floats, Floats]:
    """Convert coordinates in ``crs`` to WGS84 (lon, lat)."""
    if crs.kind == "gcj02":
        return gcj02_to_wgs84(x, y)
    if crs.kind == "bd09":
        return bd09_to_wgs84(x, y)
    assert crs.epsg is not None
    if crs.epsg == 4326:
        return _arrays(x, y)
    lon, lat = _transformer(crs.epsg, 4326).transform(*_arrays(x, y))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: Crs) -> tuple[Floats, Floats]:
    """Convert WGS84 (lon, lat) to coordinates in ``crs``."""
    if crs.kind == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if crs.kind == "bd09":
        return wgs84_to_bd09(lon, lat)
    assert crs.epsg is not None
    if crs.epsg == 4326:
        return _arrays(lon, lat)
    x, y = _transformer(4326, crs.epsg).transform(*_arrays(lon, lat))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def to_metric(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """Convert WGS84 to EPSG:4547 metres (Shenzhen's Gauss-Kruger zone)."""
    return from_wgs84(lon, lat, Crs(f"EPSG:{METRIC_EPSG}", METRIC_EPSG, "epsg"))


def transform_geometry(geom: BaseGeometry, src: Crs, dst: Crs) -> BaseGeometry:
    """Reproject a shapely geometry between any two systems (through WGS84 when needed).

    Examples
    --------
    >>> from shapely import Point
    >>> p = transform_geometry(Point(114.0579, 22.5431), WGS84, GCJ02)
    >>> round(p.x, 6), round(p.y, 6)
    (114.063014, 22.540383)
    """
    import shapely

    if src == dst:
        return geom

    def convert(coords: Floats) -> Floats:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], src)
        x, y = from_wgs84(lon, lat, dst)
        return np.column_stack([x, y])

    return shapely.transform(geom, convert)
