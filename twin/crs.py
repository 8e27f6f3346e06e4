"""Coordinate reference systems: GCJ-02 and BD-09 (unknown to PROJ), and EPSG codes via pyproj.

Chinese web maps use GCJ-02 (Amap, Tencent: WGS84 plus a deliberate, non-linear offset of a
few hundred metres) or BD-09 (Baidu: GCJ-02 plus a further offset). Official data is CGCS2000
(EPSG:4490), within centimetres of WGS84, which PROJ (and so this module) treats as equal.
Metric work uses EPSG:4547, CGCS2000 / 3-degree Gauss-Kruger CM 114E (:data:`METRIC_EPSG`).

GCJ-02 is the widely published polynomial on the Krasovsky ellipsoid. Neither it nor BD-09 has
a closed-form inverse: we iterate the forward transform (fixed point) to a residual below 1e-9
degrees (0.1 mm); the common one-step approximation is off by up to 2.5 m in Shenzhen.

Outside China (:func:`is_in_china`) the GCJ-02 offset is zero, as in every implementation; the
BD-09 step on top of it applies everywhere, as everywhere else. Axes are always (lon, lat) or
(easting, northing), never EPSG's latitude-first order. Functions take scalars or arrays and
return float64 arrays (0-dimensional for scalars; ``float()`` turns those into numbers).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Final, Literal, TypeAlias, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from twin.errors import CrsError

if TYPE_CHECKING:
    from collections.abc import Callable

    from pyproj import Transformer
    from shapely.geometry.base import BaseGeometry

Floats: TypeAlias = NDArray[np.float64]
_Pair: TypeAlias = tuple[Floats, Floats]
_Geom = TypeVar("_Geom", bound="BaseGeometry")

# Krasovsky 1940 ellipsoid, on which the GCJ-02 offset is defined.
_A: Final = 6378245.0
_EE: Final = 0.00669342162296594323
_X_PI: Final = math.pi * 3000.0 / 180.0  # Baidu's rotation constant
# Inverse transforms stop once every residual is below this (degrees; 1e-9 deg is ~0.1 mm).
_TOLERANCE_DEG: Final = 1e-9
_MAX_ITERATIONS: Final = 30

#: WGS84 box (west, south, east, north) around Shenzhen, Dapeng and Neilingding included.
#: The city's published extent is 113°43′-114°38′ E, 22°24′-22°52′ N; the box adds about 2 km.
SHENZHEN_BBOX_WGS84: Final = (113.70, 22.38, 114.68, 22.88)
#: CGCS2000 / 3-degree Gauss-Kruger CM 114E: Shenzhen's metric CRS (x = easting, in metres).
METRIC_EPSG: Final = 4547


@dataclass(frozen=True)
class Crs:
    """A coordinate reference system as an import command declares it.

    Build one with :func:`parse_crs` or take a constant: :data:`WGS84`, :data:`GCJ02`, ...

    Attributes
    ----------
    name
        Canonical spelling (``EPSG:4547``, ``gcj02``, ``bd09``), also what ``str()`` gives.
    epsg
        The EPSG code when ``kind == "epsg"`` (else ``None``; :class:`CrsError` otherwise).
    kind
        ``"epsg"`` (anything PROJ knows), ``"gcj02"`` or ``"bd09"``.

    Examples
    --------
    >>> str(Crs("EPSG:4547", 4547, "epsg"))
    'EPSG:4547'
    """

    name: str
    epsg: int | None
    kind: Literal["epsg", "gcj02", "bd09"]

    def __post_init__(self) -> None:
        # A Crs reaches pyproj by its epsg field, so an inconsistent one must not exist.
        if (self.kind == "epsg") != (self.epsg is not None):
            raise CrsError(f"coordinate system {self.name!r} ({self.kind}) has epsg={self.epsg}")

    def __str__(self) -> str:
        return self.name


#: WGS84 longitude/latitude (EPSG:4326), the project's storage CRS.
WGS84: Final = Crs("EPSG:4326", 4326, "epsg")
#: CGCS2000 longitude/latitude (EPSG:4490), China's official datum.
CGCS2000: Final = Crs("EPSG:4490", 4490, "epsg")
#: Shenzhen's metric CRS, EPSG:4547.
METRIC: Final = Crs(f"EPSG:{METRIC_EPSG}", METRIC_EPSG, "epsg")
#: GCJ-02, the datum of Amap and Tencent maps.
GCJ02: Final = Crs("gcj02", None, "gcj02")
#: BD-09, the datum of Baidu maps.
BD09: Final = Crs("bd09", None, "bd09")

# Names after lower-casing and dropping spaces, hyphens and underscores ("GCJ-02" -> "gcj02").
_NAMES: Final = {"gcj02": GCJ02, "bd09": BD09, "wgs84": WGS84, "cgcs2000": CGCS2000}
_EPSG_CODE: Final = re.compile(r"(?:epsg:)?(\d{4,6})")
_ACCEPTED: Final = (
    "an EPSG code (EPSG:4326, EPSG:4490, EPSG:4547, 4547, ...), wgs84, cgcs2000, "
    "gcj02 (GCJ-02) or bd09 (BD-09)"
)


def parse_crs(text: str | int) -> Crs:
    """Parse a coordinate reference system as users write it.

    Parameters
    ----------
    text
        ``"EPSG:4547"``, ``"epsg:4326"``, ``"4490"``, ``4326``, ``"wgs84"``, ``"cgcs2000"``,
        ``"gcj02"``/``"GCJ-02"`` or ``"bd09"``/``"BD-09"`` (case and spaces do not matter).

    Returns
    -------
    Crs
        The parsed system; EPSG codes are checked against PROJ's database.

    Raises
    ------
    CrsError
        Saying what was given and what is accepted; also for EPSG codes PROJ does not know
        or that are not 2D horizontal systems (vertical, geocentric).

    Examples
    --------
    >>> parse_crs("EPSG:4547")
    Crs(name='EPSG:4547', epsg=4547, kind='epsg')
    >>> str(parse_crs("GCJ-02")), str(parse_crs(4326)), str(parse_crs("cgcs2000"))
    ('gcj02', 'EPSG:4326', 'EPSG:4490')
    """
    key = re.sub(r"\s+", "", str(text)).lower()
    named = _NAMES.get(re.sub(r"[-_]", "", key))
    if named is not None:
        return named
    match = _EPSG_CODE.fullmatch(key)
    if match is None:
        raise CrsError(f"unknown coordinate system {str(text)!r}: give {_ACCEPTED}")
    code = int(match.group(1))
    problem = _unusable_epsg(code)
    if problem is not None:
        raise CrsError(f"{str(text)!r} {problem}: give {_ACCEPTED}")
    return Crs(f"EPSG:{code}", code, "epsg")


@lru_cache(maxsize=256)
def _unusable_epsg(code: int) -> str | None:
    """Why PROJ cannot use an EPSG code for (x, y) points, or ``None`` when it can."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjCrsError

    try:
        crs = CRS.from_epsg(code)
    except ProjCrsError:
        return "is not a coordinate system PROJ knows"
    # Vertical and geocentric systems parse fine but would turn (lon, lat) into nonsense.
    if not (crs.is_geographic or crs.is_projected) or crs.is_geocentric:
        return f"({crs.name}) is not a 2D horizontal coordinate system"
    return None


def is_in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether WGS84 points lie in the rectangle where GCJ-02 applies its offset.

    This is the customary ``out_of_china`` rectangle (lon 72.004-137.8347, lat
    0.8293-55.8271), coarse on purpose: it also covers parts of neighbouring countries.

    Returns
    -------
    numpy.ndarray
        Booleans in the broadcast shape of ``lon`` and ``lat``; NaN is never in China.

    Examples
    --------
    >>> bool(is_in_china(114.05, 22.54)), bool(is_in_china(2.35, 48.85))
    (True, False)
    >>> is_in_china([114.05, 150.0], 22.54).tolist()
    [True, False]
    """
    x, y = _floats(lon, lat)
    return (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)


def _floats(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Both inputs as new float64 arrays of one broadcast shape."""
    bx, by = np.broadcast_arrays(*_arrays(lon, lat))
    # Copies: broadcast views are read-only, and may be the caller's arrays, which we return.
    return np.array(bx, dtype=np.float64), np.array(by, dtype=np.float64)


def _arrays(x: object, y: object) -> _Pair:
    # numpy ufuncs turn 0-d arrays into numpy scalars; we promise arrays.
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _gcj_offset(lon: Floats, lat: Floats) -> _Pair:
    """GCJ-02 offset (degrees) at WGS84 points, zero outside China."""
    inside = is_in_china(lon, lat)
    # Evaluate outside points (inf and NaN included) at a harmless spot, then zero them.
    lon, lat = np.where(inside, lon, 105.0), np.where(inside, lat, 35.0)
    # The polynomial is written around (105 E, 35 N), roughly the middle of China.
    x, y = lon - 105.0, lat - 35.0
    sqrt_x = np.sqrt(np.abs(x))
    ripple = (20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)) * 2.0 / 3.0
    north = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_x + ripple
    north += (20.0 * np.sin(np.pi * y) + 40.0 * np.sin(np.pi * y / 3.0)) * 2.0 / 3.0
    north += (160.0 * np.sin(np.pi * y / 12.0) + 320.0 * np.sin(np.pi * y / 30.0)) * 2.0 / 3.0
    east = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_x + ripple
    east += (20.0 * np.sin(np.pi * x) + 40.0 * np.sin(np.pi * x / 3.0)) * 2.0 / 3.0
    east += (150.0 * np.sin(np.pi * x / 12.0) + 300.0 * np.sin(np.pi * x / 30.0)) * 2.0 / 3.0
    # The polynomials give metres; convert with the Krasovsky radii of curvature at lat.
    phi = np.radians(lat)
    w2 = 1.0 - _EE * np.sin(phi) ** 2
    meridian = _A * (1.0 - _EE) / (w2 * np.sqrt(w2))
    prime_vertical = _A / np.sqrt(w2)
    dlat = np.degrees(north / meridian)
    dlon = np.degrees(east / (prime_vertical * np.cos(phi)))
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _invert(forward: Callable[[ArrayLike, ArrayLike], _Pair], x: ArrayLike, y: ArrayLike) -> _Pair:
    """Invert a near-identity forward transform by fixed-point iteration.

    Each round moves the estimate p by the residual: p <- p - (forward(p) - target). The
    offsets change slowly with position, so the error shrinks about 300-fold per round.
    """
    px, py = tx, ty = _floats(x, y)
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(px, py)
        ex, ey = fx - tx, fy - ty
        px, py = px - ex, py - ey
        # Written as "no residual >= tolerance" so NaN input does not spin all rounds.
        if not (np.any(np.abs(ex) >= _TOLERANCE_DEG) or np.any(np.abs(ey) >= _TOLERANCE_DEG)):
            break
    # Past the limit (only where the offset jumps at the edge of China) the estimate stands.
    return _arrays(px, py)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert WGS84 to GCJ-02 (unchanged outside China).

    Parameters
    ----------
    lon, lat
        WGS84 longitudes and latitudes in degrees (scalars or arrays that broadcast).

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 (lon, lat) as float64 arrays.

    Examples
    --------
    >>> x, y = wgs84_to_gcj02(114.0579, 22.5431)
    >>> round(float(x), 6), round(float(y), 6)
    (114.063014, 22.540383)
    """
    x, y = _floats(lon, lat)
    dx, dy = _gcj_offset(x, y)
    return _arrays(x + dx, y + dy)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert GCJ-02 to WGS84 by iterating :func:`wgs84_to_gcj02` (to about 0.1 mm).

    Arguments and results as for :func:`wgs84_to_gcj02` (GCJ-02 in, WGS84 out).

    Examples
    --------
    >>> x, y = gcj02_to_wgs84(114.063014, 22.540383)
    >>> round(float(x), 6), round(float(y), 6)
    (114.0579, 22.5431)
    """
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert GCJ-02 to BD-09 (Baidu's offset applies everywhere).

    Arguments and results as for :func:`wgs84_to_gcj02` (GCJ-02 in, BD-09 out).

    Examples
    --------
    >>> x, y = gcj02_to_bd09(114.063014, 22.540383)
    >>> round(float(x), 6), round(float(y), 6)
    (114.069564, 22.546042)
    """
    x, y = _floats(lon, lat)
    # Baidu treats (lon, lat) as a plane vector and nudges its length and angle slightly.
    radius = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    angle = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _arrays(radius * np.cos(angle) + 0.0065, radius * np.sin(angle) + 0.006)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert BD-09 to GCJ-02 by iterating :func:`gcj02_to_bd09`.

    Arguments and results as for :func:`wgs84_to_gcj02` (BD-09 in, GCJ-02 out).

    Examples
    --------
    >>> x, y = bd09_to_gcj02(*gcj02_to_bd09(114.063014, 22.540383))
    >>> round(float(x), 9), round(float(y), 9)
    (114.063014, 22.540383)
    """
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert WGS84 to BD-09 (through GCJ-02).

    Arguments and results as for :func:`wgs84_to_gcj02` (WGS84 in, BD-09 out).

    Examples
    --------
    >>> x, y = wgs84_to_bd09(114.0579, 22.5431)
    >>> round(float(x), 6), round(float(y), 6)
    (114.069564, 22.546042)
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert BD-09 to WGS84 (through GCJ-02, both steps iterated).

    Arguments and results as for :func:`wgs84_to_gcj02` (BD-09 in, WGS84 out).

    Examples
    --------
    >>> x, y = bd09_to_wgs84(*wgs84_to_bd09([113.88, 114.3], [22.56, 22.6]))
    >>> np.round(x, 7).tolist(), np.round(y, 7).tolist()
    ([113.88, 114.3], [22.56, 22.6])
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84: Final = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84: Final = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


@lru_cache(maxsize=64)
def _transformer(src_epsg: int, dst_epsg: int) -> Transformer:
    """Build a PROJ transformer once (milliseconds; thread-safe to share since pyproj 3.1)."""
    # pyproj is imported here so that modules needing only is_in_china stay quick to import.
    from pyproj import Transformer
    from pyproj.exceptions import CRSError as ProjCrsError

    try:  # a Crs built by hand, not by parse_crs, may carry a code PROJ does not know
        return Transformer.from_crs(src_epsg, dst_epsg, always_xy=True)
    except ProjCrsError as exc:
        raise CrsError(f"EPSG:{src_epsg} or EPSG:{dst_epsg} is unknown to PROJ") from exc


def _between_epsg(x: ArrayLike, y: ArrayLike, src: Crs, dst: Crs) -> _Pair:
    if src.epsg is None or dst.epsg is None:  # Crs.__post_init__ excludes it; for mypy
        raise CrsError(f"{src} or {dst} has no EPSG code")
    xs, ys = _floats(x, y)
    if src.epsg == dst.epsg:
        return xs, ys
    return _arrays(*_transformer(src.epsg, dst.epsg).transform(xs, ys))


def to_wgs84(x: ArrayLike, y: ArrayLike, crs: Crs) -> _Pair:
    """Convert coordinates in ``crs`` to WGS84 (lon, lat).

    Arguments and results as for :func:`transform_xy` with ``src=crs, dst=WGS84``.

    Examples
    --------
    >>> lon, lat = to_wgs84(500000.0, 2493000.0, parse_crs("EPSG:4547"))
    >>> round(float(lon), 4), round(float(lat), 4)
    (114.0, 22.5346)
    """
    convert = _TO_WGS84.get(crs.kind)
    return convert(x, y) if convert else _between_epsg(x, y, crs, WGS84)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: Crs) -> _Pair:
    """Convert WGS84 (lon, lat) to coordinates in ``crs``.

    Arguments and results as for :func:`transform_xy` with ``src=WGS84, dst=crs``.

    Examples
    --------
    >>> x, y = from_wgs84(114.0579, 22.5431, GCJ02)
    >>> round(float(x), 6), round(float(y), 6)
    (114.063014, 22.540383)
    """
    convert = _FROM_WGS84.get(crs.kind)
    return convert(lon, lat) if convert else _between_epsg(lon, lat, WGS84, crs)


def transform_xy(x: ArrayLike, y: ArrayLike, src: Crs, dst: Crs) -> _Pair:
    """Convert coordinates between any two systems.

    EPSG to EPSG goes through one PROJ transformer, GCJ-02 to and from BD-09 directly, the
    rest through WGS84.

    Parameters
    ----------
    x, y
        Coordinates in ``src`` (scalars or arrays that broadcast): (lon, lat) in degrees for
        geographic systems, GCJ-02 and BD-09, (easting, northing) for projected ones.
    src, dst
        The source and target systems.

    Returns
    -------
    tuple of numpy.ndarray
        (x, y) in ``dst`` as new float64 arrays.

    Examples
    --------
    >>> x, y = transform_xy(114.0579, 22.5431, GCJ02, BD09)
    >>> round(float(x), 6), round(float(y), 6)
    (114.064452, 22.548757)
    """
    if src.kind == dst.kind == "epsg":
        return _between_epsg(x, y, src, dst)
    if src == dst:
        return _floats(x, y)
    # Baidu's step alone is exact and cheap; a detour through WGS84 would iterate twice.
    if src.kind == "gcj02" and dst.kind == "bd09":
        return gcj02_to_bd09(x, y)
    if src.kind == "bd09" and dst.kind == "gcj02":
        return bd09_to_gcj02(x, y)
    return from_wgs84(*to_wgs84(x, y, src), dst)


def to_metric(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert WGS84 (lon, lat) to EPSG:4547 metres (easting, northing).

    Vectorised like :func:`from_wgs84`; the results are float64 arrays of metres.

    Examples
    --------
    >>> x, y = to_metric(114.0, 22.5)
    >>> round(float(x), 1), round(float(y), 1)
    (500000.0, 2489167.3)
    """
    return from_wgs84(lon, lat, METRIC)


def from_metric(x: ArrayLike, y: ArrayLike) -> _Pair:
    """Convert EPSG:4547 metres (easting, northing) to WGS84 (lon, lat).

    Vectorised like :func:`to_wgs84`; the results are float64 arrays of degrees.

    Examples
    --------
    >>> lon, lat = from_metric(*to_metric(114.0579, 22.5431))
    >>> round(float(lon), 9), round(float(lat), 9)
    (114.0579, 22.5431)
    """
    return to_wgs84(x, y, METRIC)


def transform_geometry(geom: _Geom, src: Crs, dst: Crs) -> _Geom:
    """Reproject a shapely geometry between any two systems, GCJ-02 and BD-09 included.

    Vertices are converted in place (no densifying), so the vertex count is kept; Z values,
    when present, pass through unchanged.

    Parameters
    ----------
    geom
        A shapely 2 geometry in ``src``.
    src, dst
        The source and target systems.

    Returns
    -------
    shapely.geometry.base.BaseGeometry
        A new geometry of the same type in ``dst`` (``geom`` itself when ``src == dst``).

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
        out = coords.copy()
        out[:, 0], out[:, 1] = transform_xy(coords[:, 0], coords[:, 1], src, dst)
        return out

    # shapely drops Z unless asked; ask exactly when the geometry has it.
    return shapely.transform(geom, convert, include_z=bool(shapely.has_z(geom)))
