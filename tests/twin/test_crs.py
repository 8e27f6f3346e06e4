"""Coordinate systems: GCJ-02/BD-09 against published values, round trips within 0.5 m."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shapely
from pyproj import Geod
from shapely import LineString, MultiPolygon, Point, Polygon
from shapely.affinity import translate

import twin.crs
from twin.crs import (
    BD09,
    CGCS2000,
    GCJ02,
    METRIC,
    METRIC_EPSG,
    SHENZHEN_BBOX_WGS84,
    WGS84,
    Crs,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_metric,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    is_in_china,
    parse_crs,
    to_metric,
    to_wgs84,
    transform_geometry,
    transform_xy,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from twin.errors import CrsError

GEOD = Geod(ellps="WGS84")
# Shenzhen with a margin of a few kilometres.
sz_lon = st.floats(113.7, 114.7)
sz_lat = st.floats(22.4, 22.9)
CIVIC_CENTRE = (114.0579, 22.5431)  # Shenzhen Civic Centre, Futian


def metres(lon1: object, lat1: object, lon2: object, lat2: object) -> np.ndarray:
    """Geodesic distances on WGS84, element by element."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# --- GCJ-02 and BD-09 ---------------------------------------------------------------------


def test_published_reference_values() -> None:
    # A reference pair widely used by GCJ-02/BD-09 implementations (Tiananmen, Beijing).
    x, y = wgs84_to_gcj02(116.404, 39.915)
    assert (float(x), float(y)) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-9)
    bx, by = gcj02_to_bd09(116.404, 39.915)
    assert (float(bx), float(by)) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-9
    )


def test_offset_in_shenzhen_is_a_few_hundred_metres() -> None:
    x, y = wgs84_to_gcj02(*CIVIC_CENTRE)
    assert 200 < metres(*CIVIC_CENTRE, x, y) < 700
    bx, by = wgs84_to_bd09(*CIVIC_CENTRE)
    assert 500 < metres(*CIVIC_CENTRE, bx, by) < 1500  # Baidu adds roughly another 700 m


@pytest.mark.parametrize(("lon", "lat"), [(2.35, 48.85), (-74.0, 40.7), (151.2, -33.87)])
def test_points_outside_china_are_unchanged(lon: float, lat: float) -> None:
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84):
        x, y = convert(lon, lat)
        assert (float(x), float(y)) == (lon, lat)


def test_mixed_arrays_shift_only_the_points_in_china() -> None:
    x, y = wgs84_to_gcj02([114.0579, 2.35], [22.5431, 48.85])
    assert x[0] != 114.0579 and (x[1], y[1]) == (2.35, 48.85)


@settings(max_examples=300)
@given(sz_lon, sz_lat)
def test_gcj02_round_trip_within_half_a_metre(lon: float, lat: float) -> None:
    x, y = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, x, y) < 0.5


@settings(max_examples=300)
@given(sz_lon, sz_lat)
def test_bd09_round_trip_within_half_a_metre(lon: float, lat: float) -> None:
    x, y = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert metres(lon, lat, x, y) < 0.5


@settings(max_examples=200)
@given(sz_lon, sz_lat)
def test_inverses_solve_the_forward_transforms(lon: float, lat: float) -> None:
    # The other direction: the iterated inverse is a true preimage to 1e-9 degrees (0.1 mm).
    fx, fy = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert abs(fx - lon) < 1e-9 and abs(fy - lat) < 1e-9
    bx, by = gcj02_to_bd09(*bd09_to_gcj02(lon, lat))
    assert abs(bx - lon) < 1e-9 and abs(by - lat) < 1e-9


def test_round_trips_are_exact_to_centimetres_across_the_city() -> None:
    lon, lat = np.meshgrid(np.linspace(113.7, 114.7, 101), np.linspace(22.4, 22.9, 51))
    x, y = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert x.shape == lon.shape and float(np.max(metres(lon, lat, x, y))) < 0.01
    x, y = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert float(np.max(metres(lon, lat, x, y))) < 0.01


def test_vectorised_shapes_and_dtypes() -> None:
    x, y = wgs84_to_gcj02(114.0, 22.5)
    assert isinstance(x, np.ndarray) and x.shape == () and x.dtype == np.float64
    x, y = gcj02_to_wgs84(np.array([114.0, 114.1, 114.2]), 22.5)  # a scalar broadcasts
    assert x.shape == y.shape == (3,)
    x, y = bd09_to_wgs84(np.empty(0), np.empty(0))
    assert x.shape == y.shape == (0,)


def test_inputs_are_never_modified_or_returned() -> None:
    lon, lat = np.array([114.0, 114.1]), np.array([22.5, 22.6])
    for x, y in (to_wgs84(lon, lat, WGS84), transform_xy(lon, lat, GCJ02, GCJ02)):
        x[0] = 0.0
        assert not np.shares_memory(x, lon) and not np.shares_memory(y, lat)
    assert lon[0] == 114.0


def test_nan_stays_nan_without_spoiling_its_neighbours() -> None:
    x, y = bd09_to_wgs84([np.nan, 114.0], [22.5, 22.5])
    assert np.isnan(x[0]) and np.isnan(y[0])
    back_x, back_y = wgs84_to_bd09(x[1], y[1])
    assert metres(114.0, 22.5, back_x, back_y) < 0.001


# --- EPSG systems and the dispatch ------------------------------------------------------


@pytest.mark.parametrize("code", ["EPSG:4547", "EPSG:3857", "EPSG:4490", "gcj02", "bd09"])
@settings(max_examples=100, deadline=None)
@given(lon=sz_lon, lat=sz_lat)
def test_every_crs_round_trips_within_half_a_metre(code: str, lon: float, lat: float) -> None:
    crs = parse_crs(code)
    x, y = from_wgs84(lon, lat, crs)
    back_lon, back_lat = to_wgs84(x, y, crs)
    assert metres(lon, lat, back_lon, back_lat) < 0.5


@settings(max_examples=100, deadline=None)
@given(lon=sz_lon, lat=sz_lat)
def test_transform_xy_between_any_pair_matches_going_through_wgs84(lon: float, lat: float) -> None:
    systems = [WGS84, METRIC, parse_crs(3857), GCJ02, BD09]
    for src in systems:
        x, y = from_wgs84(lon, lat, src)
        for dst in systems:
            got_x, got_y = transform_xy(x, y, src, dst)
            want_x, want_y = from_wgs84(lon, lat, dst)
            # 1e-3 of a unit: a millimetre for metric systems, far less for degrees.
            assert abs(got_x - want_x) < 1e-3 and abs(got_y - want_y) < 1e-3


def test_metric_crs_is_shenzhens_gauss_kruger_zone() -> None:
    assert METRIC_EPSG == 4547 and METRIC == parse_crs("EPSG:4547")
    x, y = to_metric(114.0, 22.5)  # on the central meridian: false easting only
    assert float(x) == pytest.approx(500000.0, abs=1e-6)
    assert 2_480_000 < float(y) < 2_500_000
    lon, lat = from_metric(*to_metric(*CIVIC_CENTRE))
    assert metres(*CIVIC_CENTRE, lon, lat) < 0.001


def test_cgcs2000_is_treated_as_wgs84() -> None:
    lon, lat = to_wgs84(*CIVIC_CENTRE, CGCS2000)
    assert metres(*CIVIC_CENTRE, lon, lat) < 0.01


# --- parse_crs and Crs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("EPSG:4547", "EPSG:4547"),
        ("epsg:4326", "EPSG:4326"),
        (" EPSG : 3857 ", "EPSG:3857"),
        ("4490", "EPSG:4490"),
        (4326, "EPSG:4326"),
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("gcj-02", "gcj02"),
        ("GCJ_02", "gcj02"),
        ("bd09", "bd09"),
        ("BD-09", "bd09"),
        ("wgs84", "EPSG:4326"),
        ("WGS-84", "EPSG:4326"),
        ("CGCS2000", "EPSG:4490"),
    ],
)
def test_parse_crs_spellings(text: str | int, name: str) -> None:
    crs = parse_crs(text)
    assert crs.name == name == str(crs)


def test_parse_crs_kinds_and_constants() -> None:
    assert parse_crs("wgs84") == WGS84 == Crs("EPSG:4326", 4326, "epsg")
    assert parse_crs("gcj02") == GCJ02 and GCJ02.kind == "gcj02" and GCJ02.epsg is None
    assert parse_crs("bd09") == BD09 and BD09.kind == "bd09"
    assert parse_crs("cgcs2000") == CGCS2000 and CGCS2000.epsg == 4490


@pytest.mark.parametrize(
    "bad",
    ["", "mercator", "EPSG:", "EPSG:4326x", "gcj03", "bd-10", "EPSG:999999", "12", "-4326", True],
)
def test_parse_crs_refuses_with_what_was_given_and_what_is_accepted(bad: object) -> None:
    with pytest.raises(CrsError) as info:
        parse_crs(bad)  # type: ignore[arg-type]
    message = str(info.value)
    assert repr(str(bad)) in message
    assert "EPSG:4547" in message and "gcj02" in message and "bd09" in message


@pytest.mark.parametrize("code", ["EPSG:5773", "EPSG:4978"])  # EGM96 height; geocentric WGS84
def test_parse_crs_refuses_systems_that_are_not_2d_horizontal(code: str) -> None:
    with pytest.raises(CrsError, match="not a 2D horizontal coordinate system"):
        parse_crs(code)


@pytest.mark.parametrize(("epsg", "kind"), [(None, "epsg"), (4326, "gcj02"), (4326, "bd09")])
def test_inconsistent_crs_cannot_be_built(epsg: int | None, kind: str) -> None:
    with pytest.raises(CrsError):
        Crs("odd", epsg, kind)  # type: ignore[arg-type]


def test_unknown_code_in_a_hand_built_crs_raises_crs_error() -> None:
    with pytest.raises(CrsError, match="EPSG:999999"):
        to_wgs84(1.0, 2.0, Crs("EPSG:999999", 999999, "epsg"))


def test_crs_is_frozen_and_hashable() -> None:
    with pytest.raises(AttributeError):
        GCJ02.name = "x"  # type: ignore[misc]
    assert len({parse_crs("EPSG:4326"), WGS84, parse_crs(4326)}) == 1


# --- geometries -------------------------------------------------------------------------


def test_transform_geometry_keeps_vertices_and_moves_by_the_offset() -> None:
    poly = Polygon([(114.05, 22.54), (114.06, 22.54), (114.06, 22.55), (114.05, 22.54)])
    moved = transform_geometry(poly, WGS84, GCJ02)
    assert isinstance(moved, Polygon)
    assert len(moved.exterior.coords) == len(poly.exterior.coords)
    src = np.array(poly.exterior.coords)
    dst = np.array(moved.exterior.coords)
    want_x, want_y = wgs84_to_gcj02(src[:, 0], src[:, 1])
    assert np.allclose(dst[:, 0], want_x, rtol=0, atol=1e-12)
    assert np.allclose(dst[:, 1], want_y, rtol=0, atol=1e-12)
    shift = metres(src[:, 0], src[:, 1], dst[:, 0], dst[:, 1])
    assert np.all((shift > 200) & (shift < 700))
    back = transform_geometry(transform_geometry(moved, GCJ02, BD09), BD09, WGS84)
    assert back.equals_exact(poly, tolerance=1e-8)


def test_transform_geometry_keeps_types_holes_and_z() -> None:
    shell = [(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)]
    hole = [(40, 40), (60, 40), (60, 60), (40, 40)]
    multi = MultiPolygon([Polygon(shell, [hole])])
    metric = translate(multi, 500000, 2494000)
    wgs = transform_geometry(metric, METRIC, WGS84)
    assert isinstance(wgs, MultiPolygon) and len(wgs.geoms[0].interiors) == 1
    assert shapely.get_num_coordinates(wgs) == shapely.get_num_coordinates(multi)
    line = LineString([(114.0, 22.5, 12.5), (114.01, 22.51, 30.0)])
    gcj = transform_geometry(line, WGS84, GCJ02)
    assert gcj.has_z and [c[2] for c in gcj.coords] == [12.5, 30.0]


def test_transform_geometry_edge_cases() -> None:
    p = Point(114.0, 22.5)
    assert transform_geometry(p, GCJ02, GCJ02) is p
    assert transform_geometry(Polygon(), WGS84, GCJ02).is_empty


# --- China and Shenzhen -----------------------------------------------------------------


def test_is_in_china_is_vectorised() -> None:
    inside = is_in_china([114.05, 2.35, 137.9, np.nan], [22.54, 48.85, 30.0, 22.5])
    assert inside.tolist() == [True, False, False, False]


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (113.717, 22.400),  # published extent, south-west corner (113°43′ E, 22°24′ N)
        (114.633, 22.867),  # published extent, north-east corner (114°38′ E, 22°52′ N)
        (113.79, 22.42),  # Neilingding Island, Nanshan
        (114.55, 22.47),  # Xichong, the south of the Dapeng peninsula
        (114.61, 22.58),  # the east coast of Dapeng
        (113.93, 22.85),  # Guangming, the northern border
        (*CIVIC_CENTRE,),
    ],
)
def test_shenzhen_bbox_covers_the_city(lon: float, lat: float) -> None:
    west, south, east, north = SHENZHEN_BBOX_WGS84
    assert west <= lon <= east and south <= lat <= north
    assert bool(is_in_china(lon, lat))


def test_shenzhen_bbox_is_tight() -> None:
    west, south, east, north = SHENZHEN_BBOX_WGS84
    # Hong Kong Island and central Guangzhou lie outside (the New Territories do not: a box).
    assert not (west <= 114.17 <= east and south <= 22.28 <= north)
    assert not (west <= 113.26 <= east and south <= 23.13 <= north)


def test_doctests() -> None:
    result = doctest.testmod(twin.crs, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 15 and result.failed == 0
