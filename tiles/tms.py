"""Web Mercator tile matrix maths (EPSG:3857, 256-pixel tiles, XYZ order: y grows southwards).

Pure functions, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tiles.errors import TileCoordError

#: Deepest zoom served; deeper requests are refused instead of running unbounded queries.
MAX_ZOOM = 22
#: Half the side of the Web Mercator square, metres.
ORIGIN_SHIFT_M = 20037508.342789244
#: Latitude limit of Web Mercator.
MAX_LAT = 85.0511287798066


@dataclass(frozen=True, order=True)
class TileCoord:
    """One tile of the Web Mercator matrix.

    Examples
    --------
    >>> TileCoord(1, 1, 0).bounds_4326()
    (0.0, 0.0, 180.0, 85.0511287798066)
    """

    z: int
    x: int
    y: int

    def __post_init__(self) -> None:
        if not 0 <= self.z <= MAX_ZOOM:
            raise TileCoordError(f"zoom {self.z} is outside 0..{MAX_ZOOM}")
        n = 1 << self.z
        if not (0 <= self.x < n and 0 <= self.y < n):
            raise TileCoordError(
                f"tile {self.z}/{self.x}/{self.y} does not exist: x and y run "
                f"0..{n - 1} at zoom {self.z}"
            )

    def __str__(self) -> str:
        return f"{self.z}/{self.x}/{self.y}"

    def bounds_3857(self) -> tuple[float, float, float, float]:
        """Return (xmin, ymin, xmax, ymax) in metres."""
        size = 2 * ORIGIN_SHIFT_M / (1 << self.z)
        xmin = -ORIGIN_SHIFT_M + self.x * size
        ymax = ORIGIN_SHIFT_M - self.y * size
        return (xmin, ymax - size, xmin + size, ymax)

    def bounds_4326(self) -> tuple[float, float, float, float]:
        """Return (west, south, east, north) in degrees."""
        n = 1 << self.z
        west = self.x / n * 360.0 - 180.0
        east = (self.x + 1) / n * 360.0 - 180.0
        return (west, _tile_lat(self.y + 1, n), east, _tile_lat(self.y, n))


def _tile_lat(y: int, n: int) -> float:
    if y == 0:
        return MAX_LAT
    if y == n:
        return -MAX_LAT
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


def tile_for(lon: float, lat: float, z: int) -> TileCoord:
    """Return the tile holding a WGS84 point at zoom ``z``.

    Examples
    --------
    >>> tile_for(113.88, 22.55, 12)
    TileCoord(z=12, x=3343, y=1785)
    """
    n = 1 << z
    lat = max(min(lat, MAX_LAT), -MAX_LAT)
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1 - math.asinh(math.tan(rad)) / math.pi) / 2 * n)
    return TileCoord(z, min(max(x, 0), n - 1), min(max(y, 0), n - 1))


def tiles_covering(
    bbox_4326: tuple[float, float, float, float], z: int
) -> tuple[int, int, int, int]:
    """Return (xmin, ymin, xmax, ymax), inclusive, of the tiles covering a bbox at zoom ``z``."""
    west, south, east, north = bbox_4326
    top_left = tile_for(west, north, z)
    bottom_right = tile_for(east, south, z)
    return (top_left.x, top_left.y, bottom_right.x, bottom_right.y)
