"""The in-memory points-in-polygons index gives PostGIS's answer (``ST_Intersects``, ranked).

Random layers of polygons — lattices of boxes sharing edges and vertices, a large polygon with
a hole over them (it covers whole cells of the index), multipolygons, rotated shapes, equal
twins (ties to the lower code) — and points drawn at random, on vertices, on edges, in holes
and outside everything, answered by the index and by one PostGIS query.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shapely

from blocks.placement.points import _Layer
from twin.db.connect import connect

_RULES = {True: "ST_Area(geom), code", False: "length(code) DESC, code"}


def _layer(rng: np.random.Generator) -> list[Any]:
    size = float(rng.uniform(1e-4, 5e-4))
    x0, y0 = 113.8 + rng.uniform(0, 0.1), 22.5 + rng.uniform(0, 0.1)
    n = int(rng.integers(3, 9))
    geoms: list[Any] = [shapely.box(x0 + i * size, y0 + j * size, x0 + (i + 1) * size,
                                    y0 + (j + 1) * size)
                        for i in range(n) for j in range(n) if rng.random() < 0.8]  # fmt: skip
    outer = shapely.box(x0 - size, y0 - size, x0 + (n + 1) * size, y0 + (n + 1) * size)
    hole = shapely.box(x0 + size, y0 + size, x0 + 2.5 * size, y0 + 2.5 * size)
    geoms.append(outer.difference(hole))  # holds the lattice, with a hole
    geoms.append(
        shapely.MultiPolygon(
            [
                shapely.box(x0 - 3 * size, y0, x0 - 2 * size, y0 + size),
                shapely.box(x0, y0 - 3 * size, x0 + size, y0 - 2 * size),
            ]
        )
    )
    centre = shapely.Point(x0 + n * size / 2, y0 + n * size / 2)
    geoms.append(centre.buffer(size * rng.uniform(0.5, 3), quad_segs=int(rng.integers(1, 8))))
    geoms.append(shapely.affinity.rotate(shapely.box(x0, y0, x0 + 2 * size, y0 + size),
                                         float(rng.uniform(0, 90))))  # fmt: skip
    geoms.append(geoms[0])  # an equal twin: the lower code wins
    return geoms


def _points(rng: np.random.Generator, geoms: list[Any]) -> np.ndarray[Any, Any]:
    w, s, e, n = shapely.total_bounds(geoms)
    pad = (e - w) * 0.2
    inside = np.column_stack(
        [rng.uniform(w - pad, e + pad, 400), rng.uniform(s - pad, n + pad, 400)]
    )
    vertices = shapely.get_coordinates(geoms)
    a, b = vertices[:-1], vertices[1:]
    on_edges = a + (b - a) * rng.random((len(a), 1))  # on an edge, or a rounding off it
    midpoints = (a + b) / 2
    far = np.array([[w - 1, s - 1], [e + 1, n + 1], [(w + e) / 2, n + 0.5]])
    return np.vstack([inside, vertices, on_edges, midpoints, far])


def _postgis(
    conninfo: str, geoms: list[Any], codes: list[str], xy: Any, by_area: bool
) -> list[Any]:
    with contextlib.closing(connect(conninfo)) as conn:
        conn.execute("CREATE TEMP TABLE polys (code text, geom geometry)")
        conn.execute("CREATE TEMP TABLE pts (i integer, geom geometry)")
        with conn.cursor().copy("COPY polys (code, geom) FROM STDIN") as copy:
            for code, g in zip(codes, geoms, strict=True):
                copy.write_row((code, shapely.to_wkt(g, rounding_precision=-1)))
        with conn.cursor().copy("COPY pts (i, geom) FROM STDIN") as copy:
            for i, (x, y) in enumerate(xy.tolist()):
                copy.write_row((i, f"POINT({x!r} {y!r})"))
        rows = conn.execute(
            "SELECT (SELECT code FROM polys WHERE ST_Intersects(polys.geom, pts.geom) "
            f"ORDER BY {_RULES[by_area]} LIMIT 1) FROM pts ORDER BY i"
        ).fetchall()
    return [r[0] for r in rows]


def _ours(geoms: list[Any], codes: list[str], xy: Any, by_area: bool) -> list[Any]:
    layer = _Layer([(c, shapely.to_wkb(g)) for c, g in zip(codes, geoms, strict=True)], by_area)
    found = layer.best(np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1]))
    return [layer.codes[i] if i >= 0 else None for i in found]


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), by_area=st.booleans())
def test_random_layers_answer_as_postgis(db_conninfo: str, seed: int, by_area: bool) -> None:
    rng = np.random.default_rng(seed)
    geoms = _layer(rng)
    codes = [f"{int(c):06d}"[: 3 + int(rng.integers(0, 4))] + f"{i:04d}"
             for i, c in enumerate(rng.integers(0, 10**6, len(geoms)))]  # fmt: skip
    codes[-1] = "0" + codes[0][1:] if codes[0] > "0" else codes[-1]  # the twin: lower or higher
    xy = _points(rng, geoms)
    ours = _ours(geoms, codes, xy, by_area)
    assert ours == _postgis(db_conninfo, geoms, codes, xy, by_area)
    assert None in ours and len(set(ours)) > 3


def test_edges_vertices_holes_and_parts() -> None:
    a, b = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)  # sharing the edge x = 1
    ring = shapely.box(3, 0, 6, 3).difference(shapely.box(4, 1, 5, 2))
    parts = shapely.MultiPolygon([shapely.box(7, 0, 8, 1), shapely.box(9, 0, 10, 1)])
    codes = ["b", "a", "ring", "parts"]
    xy = np.array([[1, 0.5], [1, 1], [0.5, 0.5], [1.5, 0.5], [4.5, 1.5], [4, 1.5], [3.5, 0.5],
                   [8.5, 0.5], [9.5, 0.5], [10, 1], [2.5, 0.5], [-1, -1]], dtype=float)  # fmt: skip
    ours = _ours([a, b, ring, parts], codes, xy, by_area=True)
    assert ours == ["a", "a", "b", "a", None, "ring", "ring", None, "parts", "parts", None, None]


@pytest.mark.parametrize("n", [1, 50_000])  # one thread, then both
def test_many_points_match_geos(n: int) -> None:
    rng = np.random.default_rng(n)
    geoms = _layer(rng)
    codes = [f"c{i:03d}" for i in range(len(geoms))]
    xy = np.vstack([_points(rng, geoms), _points(rng, geoms)])[: max(n, 1)]
    xy = xy[rng.integers(0, len(xy), n)] if n > len(xy) else xy
    layer = _Layer([(c, shapely.to_wkb(g)) for c, g in zip(codes, geoms, strict=True)], True)
    found = layer.best(np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1]))
    assert np.array_equal(found, layer._exact(np.asarray(shapely.points(xy))))
