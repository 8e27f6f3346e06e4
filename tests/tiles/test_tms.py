"""Tile matrix maths: round trips and refusals (property tests)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiles.errors import TileCoordError
from tiles.tms import MAX_LAT, MAX_ZOOM, TileCoord, tile_for, tiles_covering

lons = st.floats(-179.999, 179.999)
lats = st.floats(-MAX_LAT + 1e-6, MAX_LAT - 1e-6)
zooms = st.integers(0, MAX_ZOOM)


@given(lons, lats, zooms)
def test_the_tile_for_a_point_contains_it(lon: float, lat: float, z: int) -> None:
    t = tile_for(lon, lat, z)
    w, s, e, n = t.bounds_4326()
    assert w - 1e-9 <= lon <= e + 1e-9
    assert s - 1e-9 <= lat <= n + 1e-9


@given(zooms, st.data())
def test_bounds_3857_and_4326_agree(z: int, data: st.DataObject) -> None:
    n = 1 << z
    x = data.draw(st.integers(0, n - 1))
    y = data.draw(st.integers(0, n - 1))
    t = TileCoord(z, x, y)
    xmin, ymin, xmax, ymax = t.bounds_3857()
    assert xmax > xmin and ymax > ymin
    w, s, e, nn = t.bounds_4326()
    assert tile_for((w + e) / 2, (s + nn) / 2, z) == t


@given(lons, lats, lons, lats, st.integers(0, 16))
def test_covering_range_holds_the_corners(a: float, b: float, c: float, d: float, z: int) -> None:
    bbox = (min(a, c), min(b, d), max(a, c), max(b, d))
    xmin, ymin, xmax, ymax = tiles_covering(bbox, z)
    assert xmin <= xmax and ymin <= ymax
    for lon, lat in ((bbox[0], bbox[1]), (bbox[2], bbox[3])):
        t = tile_for(lon, lat, z)
        assert xmin <= t.x <= xmax and ymin <= t.y <= ymax


@pytest.mark.parametrize(
    ("z", "x", "y"), [(-1, 0, 0), (23, 0, 0), (3, 8, 0), (3, 0, 8), (0, -1, 0)]
)
def test_tiles_outside_the_matrix_are_refused(z: int, x: int, y: int) -> None:
    with pytest.raises(TileCoordError):
        TileCoord(z, x, y)
