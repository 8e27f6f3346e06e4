"""Tessellation and outline fitting: parts tile their parent exactly (no database)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import shapely
from shapely import MultiPolygon, Polygon, box

from twin.synth.polygons import fit_outlines, lonlat_scale, points_inside, tessellate

# A concave parent with a hole and a second part, in metres.
L_SHAPE = Polygon(
    [(0, 0), (3000, 0), (3000, 1000), (1000, 1000), (1000, 3000), (0, 3000)],
    holes=[[(200, 200), (400, 200), (400, 400), (200, 400)]],
)
PARENT = MultiPolygon([L_SHAPE, box(4000, 0, 5000, 800)])


def _assert_tiles(parent: shapely.Geometry, parts: list[MultiPolygon]) -> None:
    assert all(p.is_valid for p in parts)
    assert sum(p.area for p in parts) == pytest.approx(parent.area, rel=1e-9)
    union = shapely.union_all(parts)
    assert union.symmetric_difference(parent).area <= parent.area * 1e-9
    for a, b in itertools.combinations(parts, 2):
        assert a.intersection(b).area <= parent.area * 1e-12


@pytest.mark.parametrize("n", [1, 2, 7, 40])
def test_parts_tile_the_parent_without_gaps_or_overlaps(n: int) -> None:
    parts = tessellate(PARENT, n, np.random.default_rng(n))
    assert len(parts) == n
    _assert_tiles(PARENT, parts)
    assert sum(not p.is_empty for p in parts) == n


def test_parts_are_compact_and_deterministic() -> None:
    a = tessellate(box(0, 0, 1000, 1000), 16, np.random.default_rng(5))
    b = tessellate(box(0, 0, 1000, 1000), 16, np.random.default_rng(5))
    c = tessellate(box(0, 0, 1000, 1000), 16, np.random.default_rng(6))
    assert [p.wkb for p in a] == [p.wkb for p in b]
    assert [p.wkb for p in a] != [p.wkb for p in c]
    # Relaxed Voronoi cells are roughly even: none is more than four times the mean.
    assert max(p.area for p in a) < 4 * 1_000_000 / 16


def test_parts_are_ordered_west_to_east() -> None:
    parts = tessellate(box(0, 0, 10_000, 100), 5, np.random.default_rng(1), relax=3)
    xs = [p.centroid.x for p in parts]
    assert xs == sorted(xs)


def test_points_fall_inside_the_parent() -> None:
    pts = points_inside(L_SHAPE, 500, np.random.default_rng(2))
    assert pts.shape == (500, 2)
    assert shapely.contains_xy(L_SHAPE, pts[:, 0], pts[:, 1]).all()


def test_given_outlines_are_clipped_overlaps_resolved_and_gaps_filled() -> None:
    parent = box(0, 0, 100, 100)
    # Overlapping, sticking out of the parent, and leaving a gap at the top.
    given = {"440306017": box(-10, 0, 60, 90), "440306018": box(50, 0, 120, 80)}
    fitted = fit_outlines(parent, given, ["440306017", "440306018"])
    _assert_tiles(parent, list(fitted.values()))
    # The lower code keeps the overlap; the gap goes to the longer shared border.
    assert fitted["440306017"].area > fitted["440306018"].area


def test_a_missing_outline_is_named() -> None:
    with pytest.raises(ValueError, match="no outline for 440306018"):
        fit_outlines(box(0, 0, 1, 1), {"440306017": box(0, 0, 1, 1)}, ["440306017", "440306018"])


def test_a_lonlat_parent_that_nearly_touches_itself_stays_valid() -> None:
    # A "C" whose arms come within a hair of each other: any affine map of it may cross.
    gap = 1e-12
    c_shape = Polygon([
        (113.80, 22.50), (113.90, 22.50), (113.90, 22.52), (113.82, 22.52), (113.82, 22.56 - gap),
        (113.90, 22.56 - gap), (113.90, 22.58), (113.80, 22.58),
    ])  # fmt: skip
    assert c_shape.is_valid
    aspect, sliver = lonlat_scale(c_shape)
    parts = tessellate(c_shape, 12, np.random.default_rng(3), aspect=aspect, sliver=sliver)
    _assert_tiles(c_shape, parts)
    assert all(not p.is_empty for p in parts)
    # Compact on the ground: no part's box is six times as long (in metres) as it is wide.
    for p in parts:
        xmin, ymin, xmax, ymax = p.bounds
        w, h = (xmax - xmin) * aspect, ymax - ymin
        assert max(w, h) < 6 * min(w, h)


def test_a_functional_areas_streets_tile_its_part_of_the_district() -> None:
    from twin.synth.plan import Unit, street_outlines

    district = box(114.0, 22.5, 114.3, 22.7)
    area = box(114.2, 22.4, 114.5, 22.8)  # Dapeng-like: sticks out of the district too
    streets = [
        Unit("440307003", "平湖街道", "440307"),
        Unit("440307006", "坪地街道", "440307"),
        Unit("440307009", "葵涌街道", "440307", "440307-DP"),
        Unit("440307010", "大鹏街道", "440307", "440307-DP"),
    ]
    out = street_outlines(district, streets, {"440307-DP": area}, seed=1)
    _assert_tiles(district, list(out.values()))
    part = district.intersection(area)
    inside = shapely.union_all([out["440307009"], out["440307010"]])
    assert inside.symmetric_difference(part).area < part.area * 1e-9
