"""The Beidou grid location code (北斗网格位置码, GB/T 39409-2020), two-dimensional form.

The standard divides the Earth (south of 88°N and north of 88°S; the polar caps have a
merged grid of their own, not implemented here) into ten nested levels, from the 6°×4°
sheets of the 1:1,000,000 map (GB/T 13989) down to 1/2048″ cells (about 1.5 cm). The code
of a cell is the hemisphere letter followed by one or two characters per level:

===== ============== ====== ========================= ============================ ======
level cell           split  code characters           about (equator; Shenzhen 22.5°) length
===== ============== ====== ========================= ============================ ======
1     6° × 4°        —      lon zone 01–60, lat A–V   668 km × 442 km                  4
2     30′ × 30′      12×8   lon 0–B, lat 0–7          55.7 km; 51.4 km × 55.3 km       6
3     15′ × 10′      2×3    Z order 0–5               27.8 km × 18.5 km                7
4     1′ × 1′        15×10  lon 0–E, lat 0–9          1.86 km; 1.71 km × 1.84 km       9
5     4″ × 4″        15×15  lon 0–E, lat 0–E          124 m; 114 m × 123 m            11
6     2″ × 2″        2×2    Z order 0–3               61.8 m; 57.1 m × 61.4 m         12
7     1/4″ × 1/4″    8×8    lon 0–7, lat 0–7          7.73 m; 7.14 m × 7.68 m         14
8     1/32″          8×8    lon 0–7, lat 0–7          0.97 m; 0.89 m × 0.96 m         16
9     1/256″         8×8    lon 0–7, lat 0–7          12 cm                           18
10    1/2048″        8×8    lon 0–7, lat 0–7          1.5 cm                          20
===== ============== ====== ========================= ============================ ======

From level 2 on, every hemisphere is mirrored onto the north-eastern one: rows and columns
count away from the equator and the prime meridian, and the level 1 longitude zone tells
east (31–60) from west (01–30). The Z order of levels 3 and 6 numbers a cell
``row × 2 + column``. Letters are upper case (the standard's own examples); decoding accepts
either case.

All arithmetic is in integers of 1/2048″, the level 10 cell, so the levels nest exactly and a
point on a cell edge always falls in the cell to its north-east (away from the axes).

Examples
--------
The worked example of GB/T 39409-2020, annex B.2 (39°59′35.38″N, 116°18′45.37″E):

>>> lon, lat = 116 + 18 / 60 + 45.37 / 3600, 39 + 59 / 60 + 35.38 / 3600
>>> str(encode(lon, lat, 8)[0])
'N50J47539B825534'
>>> [round(float(v), 6) for v in decode(["N50J47539B825534"])[0]]
[116.312595, 39.99316, 116.312604, 39.993168]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from twin.errors import CodeError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import ArrayLike, NDArray

#: Units per arc-second: one unit is the level 10 cell, 1/2048″.
UNITS_PER_ARCSEC = 2048
_DEG = 3600 * UNITS_PER_ARCSEC
#: The standard's ordinary grid stops at 88° of latitude; beyond, the polar grid applies.
MAX_ABS_LAT = 88.0
#: Metres per degree of latitude and of longitude at the equator (WGS84 / CGCS2000).
_M_PER_DEG_LAT, _M_PER_DEG_LON = 110_574.0, 111_319.5
_DIGITS = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


@dataclass(frozen=True)
class BeidouLevel:
    """One level of the two-dimensional grid."""

    level: int
    split_lon: int
    split_lat: int
    size_lon_units: int
    size_lat_units: int
    code_length: int

    @property
    def is_z_order(self) -> bool:
        """Whether the level has one Z-order character (levels 3 and 6) instead of two."""
        return self.level in (3, 6)

    @property
    def size_deg(self) -> tuple[float, float]:
        """Cell size in degrees (longitude, latitude)."""
        return self.size_lon_units / _DEG, self.size_lat_units / _DEG

    def size_m(self, lat: float = 0.0) -> tuple[float, float]:
        """Approximate cell size in metres (east-west, north-south) at a latitude."""
        lon_deg, lat_deg = self.size_deg
        return lon_deg * _M_PER_DEG_LON * float(np.cos(np.radians(lat))), lat_deg * _M_PER_DEG_LAT


def _levels() -> tuple[BeidouLevel, ...]:
    splits = [(60, 22), (12, 8), (2, 3), (15, 10), (15, 15), (2, 2), (8, 8), (8, 8), (8, 8), (8, 8)]
    out: list[BeidouLevel] = []
    size_lon, size_lat, length = 6 * _DEG, 4 * _DEG, 4
    for level, (split_lon, split_lat) in enumerate(splits, start=1):
        if level > 1:
            size_lon, size_lat = size_lon // split_lon, size_lat // split_lat
            length += 1 if level in (3, 6) else 2
        out.append(BeidouLevel(level, split_lon, split_lat, size_lon, size_lat, length))
    return tuple(out)


#: The ten levels; ``LEVELS[n - 1]`` is level ``n``.
LEVELS = _levels()
_LEVEL_OF_LENGTH = {lv.code_length: lv.level for lv in LEVELS}


def level_of(code: str) -> int:
    """Return the level of a code from its length.

    Raises
    ------
    CodeError
        When no level has that length.

    Examples
    --------
    >>> level_of("N50J475"), level_of("N50J47539B8255")
    (3, 7)
    """
    level = _LEVEL_OF_LENGTH.get(len(code))
    if level is None:
        raise CodeError(
            f"{code!r} is not a Beidou grid location code: its length {len(code)} is none of "
            f"{sorted(_LEVEL_OF_LENGTH)}"
        )
    return level


def _units(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray[np.int64], ...]:
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180.0))
    bad |= ~(np.abs(lat) < MAX_ABS_LAT)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CodeError(
            f"({lon[i]}, {lat[i]}) has no Beidou grid code here: longitude must be within "
            f"±180° and latitude within ±{MAX_ABS_LAT:g}° (the polar grid is not implemented)"
        )
    x = np.minimum(np.floor(np.abs(lon) * _DEG).astype(np.int64), 180 * _DEG - 1)
    y = np.floor(np.abs(lat) * _DEG).astype(np.int64)
    return x, y


def encode(lon: ArrayLike, lat: ArrayLike, level: int = 10) -> NDArray[np.str_]:
    """Encode points (degrees, WGS84 / CGCS2000) as Beidou grid location codes of ``level``.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees; scalars or arrays of one shape.
    level
        1 to 10 (see the module's table).

    Returns
    -------
    numpy.ndarray
        One code per point (a 1-D array of ``str``).

    Raises
    ------
    CodeError
        For a level outside 1-10, or a point outside the grid (non-finite, polar).

    Examples
    --------
    >>> encode([114.0579, -0.5], [22.5431, -0.5], 5).tolist()
    ['N50F0503278', 'S30A1100000']
    """
    if not 1 <= level <= len(LEVELS):
        raise CodeError(f"Beidou grid level {level} does not exist: use 1 to {len(LEVELS)}")
    lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64)).ravel()
    lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64)).ravel()
    x, y = _units(lon_a, lat_a)
    first = LEVELS[0]
    out = np.empty((x.size, LEVELS[level - 1].code_length), dtype=np.uint8)
    out[:, 0] = np.where(lat_a >= 0, ord("N"), ord("S"))
    zone = x // first.size_lon_units
    zone = np.where(lon_a >= 0, 31 + zone, 30 - zone)
    out[:, 1], out[:, 2] = _DIGITS[zone // 10], _DIGITS[zone % 10]
    out[:, 3] = ord("A") + y // first.size_lat_units
    pos = 4
    for parent, lv in itertools.pairwise(LEVELS[:level]):
        col = (x % parent.size_lon_units) // lv.size_lon_units
        row = (y % parent.size_lat_units) // lv.size_lat_units
        if lv.is_z_order:
            out[:, pos] = _DIGITS[row * 2 + col]
            pos += 1
        else:
            out[:, pos], out[:, pos + 1] = _DIGITS[col], _DIGITS[row]
            pos += 2
    return out.view(f"S{out.shape[1]}").ravel().astype(np.str_)


def _parse_group(codes: list[str], level: int) -> NDArray[np.float64]:
    length = LEVELS[level - 1].code_length
    raw = np.frombuffer(
        "".join(codes).upper().encode("ascii", errors="replace"), dtype=np.uint8
    ).reshape(-1, length)
    value = np.full(256, 99, dtype=np.int64)
    value[_DIGITS] = np.arange(16)
    ok = np.isin(raw[:, 0], [ord("N"), ord("S")])
    zone = value[raw[:, 1]] * 10 + value[raw[:, 2]]
    band = raw[:, 3].astype(np.int64) - ord("A")
    ok &= (zone >= 1) & (zone <= 60) & (band >= 0) & (band < LEVELS[0].split_lat)
    x = np.where(zone >= 31, zone - 31, 30 - zone) * LEVELS[0].size_lon_units
    y = band * LEVELS[0].size_lat_units
    pos = 4
    for lv in LEVELS[1:level]:
        if lv.is_z_order:
            z = value[raw[:, pos]]
            col, row, pos = z % 2, z // 2, pos + 1
            ok &= z < lv.split_lon * lv.split_lat
        else:
            col, row, pos = value[raw[:, pos]], value[raw[:, pos + 1]], pos + 2
        ok &= (col < lv.split_lon) & (row < lv.split_lat)
        x, y = x + col * lv.size_lon_units, y + row * lv.size_lat_units
    if not ok.all():
        bad = codes[int(np.flatnonzero(~ok)[0])]
        raise CodeError(f"{bad!r} is not a valid Beidou grid location code")
    lv = LEVELS[level - 1]
    east, north = zone >= 31, raw[:, 0] == ord("N")
    lo_x, hi_x = x / _DEG, (x + lv.size_lon_units) / _DEG
    lo_y, hi_y = y / _DEG, (y + lv.size_lat_units) / _DEG
    return (
        np.column_stack(
            [
                np.where(east, lo_x, -hi_x),
                np.where(north, lo_y, -hi_y),
                np.where(east, hi_x, -lo_x),
                np.where(north, hi_y, -lo_y),
            ]
        )
        + 0.0
    )  # no negative zeros on the axes


def decode(codes: Iterable[str]) -> NDArray[np.float64]:
    """Return the bounds of the cells named by codes of any levels.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 4)``: west, south, east, north in degrees, one row per code in order.

    Raises
    ------
    CodeError
        Naming the first code that is malformed.

    Examples
    --------
    >>> decode(["N50J", "S30A"]).tolist()
    [[114.0, 36.0, 120.0, 40.0], [-6.0, -4.0, 0.0, 0.0]]
    """
    items = list(codes)
    out = np.empty((len(items), 4), dtype=np.float64)
    levels = np.array([level_of(c) for c in items], dtype=np.int64)
    for level in np.unique(levels):
        idx = np.flatnonzero(levels == level)
        out[idx] = _parse_group([items[i] for i in idx], int(level))
    return out
