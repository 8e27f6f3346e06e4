"""Coordinate systems: GCJ-02/BD-09 against published values, round trips within 0.5 m."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyproj import Geod
from shapely import Polygon

import twin.crs
from twin.crs import (
    BD09,
    GCJ02,
    WGS84,
    CrsError,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    parse_crs,
    to_wgs84,
    transform_geometry,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")
sz_lon = st.floats(113.7, 114.7)
sz_lat = st.floats(22.4, 22.9)


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_published_reference_values() -> None:
    # Reference pair used by the eviltransform test suites (Tiananmen area).
    x, y = wgs84_to_gcj02(116.404, 39.915)
    assert (float(x), float(y)) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-12)
    bx, by = gcj02_to_bd09(116.404, 39.915)
    assert (float(bx), float(by)) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-12
    )


def test_offset_in_shenzhen_is_a_few_hundred_metres_and_none_abroad() -> None:
    x, y = wgs84_to_gcj02(114.0579, 22.5431)
    assert 200 < metres(114.0579, 22.5431, float(x), float(y)) < 700
    px, py = wgs84_to_gcj02(2.35, 48.85)
    assert (float(px), float(py)) == (2.35, 48.85)


@settings(max_examples=300)
@given(sz_lon, sz_lat)
def test_gcj02_round_trip_within_half_a_metre(lon: float, lat: float) -> None:
    x, y = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, float(x), float(y)) < 0.5


@settings(max_examples=300)
@given(sz_lon, sz_lat)
def test_bd09_round_trip_within_half_a_metre(lon: float, lat: float) -> None:
    x, y = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert metres(lon, lat, float(x), float(y)) < 0.5


@pytest.mark.parametrize("code", ["EPSG:4547", "EPSG:3857", "EPSG:4490", "gcj02", "bd09"])
@settings(max_examples=100, deadline=None)
@given(lon=sz_lon, lat=sz_lat)
def test_every_crs_round_trips(code: str, lon: float, lat: float) -> None:
    crs = parse_crs(code)
    x, y = from_wgs84(lon, lat, crs)
    back_lon, back_lat = to_wgs84(x, y, crs)
    assert metres(lon, lat, float(back_lon), float(back_lat)) < 0.5


def test_vectorised_arrays() -> None:
    lon = np.linspace(113.8, 114.6, 1000)
    lat = np.linspace(22.45, 22.85, 1000)
    x, y = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert x.shape == (1000,) and np.max(np.abs(x - lon)) < 1e-8 and np.max(np.abs(y - lat)) < 1e-8


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("EPSG:4547", "EPSG:4547"),
        ("epsg:4326", "EPSG:4326"),
        ("4490", "EPSG:4490"),
        (4326, "EPSG:4326"),
        ("GCJ-02", "gcj02"),
        ("gcj02", "gcj02"),
        ("BD-09", "bd09"),
        ("wgs84", "EPSG:4326"),
        ("CGCS2000", "EPSG:4490"),
    ],
)
def test_parse_crs_spellings(text: str | int, name: str) -> None:
    assert parse_crs(text).name == name


@pytest.mark.parametrize("bad", ["", "mercator", "EPSG:999999", "EPSG:4326x", "gcj03"])
def test_parse_crs_refuses_with_a_clear_message(bad: str) -> None:
    with pytest.raises(CrsError, match="coordinate system"):
        parse_crs(bad)


def test_transform_geometry_keeps_vertices_and_moves_by_the_offset() -> None:
    poly = Polygon([(114.05, 22.54), (114.06, 22.54), (114.06, 22.55), (114.05, 22.54)])
    moved = transform_geometry(poly, WGS84, GCJ02)
    assert len(moved.exterior.coords) == len(poly.exterior.coords)
    shift = metres(poly.centroid.x, poly.centroid.y, moved.centroid.x, moved.centroid.y)
    assert 200 < shift < 700
    back = transform_geometry(transform_geometry(moved, GCJ02, BD09), BD09, WGS84)
    assert back.equals_exact(poly, tolerance=1e-7)


def test_doctests() -> None:
    result = doctest.testmod(twin.crs)
    assert result.attempted > 5 and result.failed == 0
