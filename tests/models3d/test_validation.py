"""Every glb we write passes the Khronos glTF validator; every tileset the 3D Tiles checks.

These tests need node and ``web/node_modules/gltf-validator`` (``npm ci`` in web/): when either
is missing they fail, they do not skip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import shapely

from models3d.errors import ValidatorError
from models3d.gltf import POINTS, Mesh, write_glb
from models3d.interior import build_interior_tileset
from models3d.source import BuildingInterior, FloorRow, RoomRow
from models3d.tiles3d.citymodel import build_city_tileset
from models3d.validate import validate_glbs
from tests.models3d.conftest import assert_valid, synthetic_table


def test_city_model_is_valid(tmp_path: Path) -> None:
    build_city_tileset(synthetic_table(1500), tmp_path / "city", max_features=200)
    assert_valid(tmp_path / "city" / "tileset.json")


def interior(code: str = "4403060170010100001") -> BuildingInterior:
    footprint = shapely.Polygon(
        [(114.0, 22.5), (114.0004, 22.5001), (114.0003, 22.5003), (113.9999, 22.5002)]
    )
    rooms = [
        RoomRow(f"{code}{f:03d}{r:03d}", f, "1", f"{f}{r:02d}", "residential", 80.0)
        for f in (1, 2, 3)
        for r in range(1, 7)
    ]
    rooms += [RoomRow(f"{code}900001", -1, "", "B01", "parking", None)]
    return BuildingInterior(code, footprint, 15.0, 5, 1, [FloorRow(1, 0.0, 4.5)], rooms)


def test_interior_is_valid(tmp_path: Path) -> None:
    path = build_interior_tileset(interior(), tmp_path / "rooms")
    assert_valid(path)


def test_the_validator_sees_errors(tmp_path: Path) -> None:
    broken = Mesh(np.zeros((3, 3), dtype=np.float32), indices=np.array([0, 1, 7], dtype=np.uint32))
    (tmp_path / "bad.glb").write_bytes(write_glb(broken))
    points = Mesh(
        np.eye(3, dtype=np.float32), mode=POINTS, colors=np.full((3, 4), 200, dtype=np.uint8)
    )
    (tmp_path / "good.glb").write_bytes(write_glb(points))
    bad, good = validate_glbs([tmp_path / "bad.glb", tmp_path / "good.glb"])
    assert bad.errors > 0 and good.errors == 0


def test_a_missing_validator_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValidatorError, match="npm ci"):
        validate_glbs([tmp_path / "x.glb"], node_modules=tmp_path)
