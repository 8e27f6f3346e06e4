"""WGS84 geodesy for 3D Tiles: geodetic ↔ ECEF and local east-north-up (ENU) frames.

3D Tiles place content in Earth-centred, Earth-fixed coordinates (EPSG:4978, metres). Content is
written in a local ENU frame (x east, y north, z up, metres) around a centre, and the tile's
``transform`` carries that frame to ECEF. glTF is y-up: a glTF position ``(x, y, z)`` is read by
3D Tiles clients as the z-up point ``(x, -z, y)``, so ENU ``(e, n, u)`` is stored as glTF
``(e, u, -n)`` (:func:`enu_to_gltf`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

#: WGS84 semi-major axis (m) and first eccentricity squared.
WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)
#: Metres per degree of latitude, near enough for sizing tiles (not for placing them).
M_PER_DEG = 111_320.0


def geodetic_to_ecef(lon_deg: ArrayLike, lat_deg: ArrayLike, h_m: ArrayLike) -> NDArray[np.float64]:
    """Convert WGS84 longitude, latitude (degrees) and ellipsoidal height (m) to ECEF metres.

    Parameters
    ----------
    lon_deg, lat_deg, h_m
        Arrays (or scalars) of equal shape.

    Returns
    -------
    numpy.ndarray
        Shape ``(..., 3)``: X, Y, Z in metres.

    Examples
    --------
    >>> geodetic_to_ecef(0.0, 0.0, 0.0).round(3).tolist()
    [6378137.0, 0.0, 0.0]
    """
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    h = np.asarray(h_m, dtype=np.float64)
    sin_lat = np.sin(lat)
    n = WGS84_A / np.sqrt(1 - WGS84_E2 * sin_lat**2)
    x = (n + h) * np.cos(lat) * np.cos(lon)
    y = (n + h) * np.cos(lat) * np.sin(lon)
    z = (n * (1 - WGS84_E2) + h) * sin_lat
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def ecef_to_geodetic(xyz: ArrayLike) -> NDArray[np.float64]:
    """Convert ECEF metres to WGS84 longitude, latitude (degrees) and height (m).

    Uses Bowring's method with two refinements (sub-millimetre near the surface).

    Parameters
    ----------
    xyz
        Shape ``(..., 3)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(..., 3)``: longitude, latitude in degrees and ellipsoidal height in metres.
    """
    p = np.asarray(xyz, dtype=np.float64)
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    lon = np.arctan2(y, x)
    r = np.hypot(x, y)
    lat = np.arctan2(z, r * (1 - WGS84_E2))
    for _ in range(3):
        n = WGS84_A / np.sqrt(1 - WGS84_E2 * np.sin(lat) ** 2)
        h = r / np.maximum(np.cos(lat), 1e-12) - n
        lat = np.arctan2(z, r * (1 - WGS84_E2 * n / (n + h)))
    n = WGS84_A / np.sqrt(1 - WGS84_E2 * np.sin(lat) ** 2)
    h = r / np.maximum(np.cos(lat), 1e-12) - n
    return np.stack([np.degrees(lon), np.degrees(lat), h], axis=-1)


def enu_frame(lon_deg: float, lat_deg: float, h_m: float = 0.0) -> NDArray[np.float64]:
    """Return the 4×4 matrix that carries local ENU metres at a point to ECEF metres.

    Parameters
    ----------
    lon_deg, lat_deg, h_m
        The frame's origin.

    Returns
    -------
    numpy.ndarray
        Row-major 4×4; columns are east, north, up and the origin.
    """
    lon, lat = np.radians(lon_deg), np.radians(lat_deg)
    east = np.array([-np.sin(lon), np.cos(lon), 0.0])
    north = np.array([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)])
    up = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2] = east, north, up
    m[:3, 3] = geodetic_to_ecef(lon_deg, lat_deg, h_m)
    return m


def geodetic_to_enu(
    lon_deg: ArrayLike, lat_deg: ArrayLike, h_m: ArrayLike, frame: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Convert geodetic coordinates to the local ENU frame ``frame`` (see :func:`enu_frame`).

    Returns
    -------
    numpy.ndarray
        Shape ``(..., 3)``: east, north, up in metres.
    """
    ecef = geodetic_to_ecef(lon_deg, lat_deg, h_m)
    return ecef_to_local(ecef, frame)


def ecef_to_local(ecef: NDArray[np.float64], frame: NDArray[np.float64]) -> NDArray[np.float64]:
    """Express ECEF points in the frame whose 4×4 matrix (local → ECEF) is ``frame``."""
    pts = np.asarray(ecef, dtype=np.float64)
    d = [pts[..., k] - frame[k, 3] for k in range(3)]
    # Three fused sums beat a (n, 3) @ (3, 3) BLAS call on millions of points.
    cols = [d[0] * frame[0, j] + d[1] * frame[1, j] + d[2] * frame[2, j] for j in range(3)]
    return np.stack(cols, axis=-1)


def enu_to_gltf(enu: NDArray[np.floating]) -> NDArray[np.float32]:
    """Turn ENU (z-up) coordinates into glTF's y-up axes: ``(e, n, u) → (e, u, -n)``.

    Examples
    --------
    >>> enu_to_gltf(np.array([[1.0, 2.0, 3.0]])).tolist()
    [[1.0, 3.0, -2.0]]
    """
    out = np.empty(enu.shape, dtype=np.float32)
    out[..., 0] = enu[..., 0]
    out[..., 1] = enu[..., 2]
    out[..., 2] = -enu[..., 1]
    return out


def column_major(matrix: NDArray[np.float64]) -> list[float]:
    """Flatten a row-major 4×4 matrix in the column-major order 3D Tiles and glTF use."""
    return [float(v) for v in np.asarray(matrix, dtype=np.float64).T.reshape(-1)]
