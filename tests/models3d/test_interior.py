"""A building's floors and rooms as stacked volumes with floor numbers and room codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import shapely

from models3d.interior import split_footprint, volumes
from tests.models3d.conftest import decode_table, glb_parts
from tests.models3d.test_validation import interior


def test_rooms_split_the_footprint_without_overlap() -> None:
    footprint = shapely.box(0, 0, 40, 12)
    rooms = split_footprint(footprint, 7)
    assert len(rooms) == 7
    assert all(r.area > 20 for r in rooms)
    union = shapely.union_all(rooms)
    assert union.area == sum(r.area for r in rooms) == shapely.intersection(union, footprint).area


def test_volumes_stack_floor_by_floor() -> None:
    vols = volumes(interior())
    floors = sorted({v.floor_no for v in vols})
    assert floors == [-1, 1, 2, 3, 4, 5]
    first = [v for v in vols if v.floor_no == 1]
    assert len(first) == 6 and first[0].bottom_m == 0.0 and first[0].top_m == 4.5 - 0.15
    second = [v for v in vols if v.floor_no == 2]
    assert second[0].bottom_m == 3.0  # 15 m over 5 floors
    empty = [v for v in vols if v.floor_no == 5]
    assert len(empty) == 1 and empty[0].room_code == ""
    assert next(v for v in vols if v.floor_no == -1).top_m < 0


def test_each_room_carries_its_code(tmp_path: Path) -> None:
    from models3d.interior import build_interior_tileset

    path = build_interior_tileset(interior(), tmp_path / "r")
    doc, data, attrs = glb_parts(path.parent / "4403060170010100001.glb")
    cols = decode_table(doc, data)
    codes = [c for c in cols["room_code"] if c]
    assert len(codes) == 19 and all(len(c) == 25 for c in codes)
    assert set(np.unique(attrs["_FEATURE_ID_0"]).astype(int)) == set(range(len(cols["room_code"])))
    assert cols["floor_no"][cols["room_code"].index("4403060170010100001002003")] == 2
