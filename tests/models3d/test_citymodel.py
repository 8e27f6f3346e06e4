"""The city model: placement on the globe, metadata, tiling, incremental rebuilds, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import shapely

from models3d.buildings import Building, BuildingTable
from models3d.errors import GeometryError, TilesetError
from models3d.geodesy import M_PER_DEG, ecef_to_geodetic
from models3d.tiles3d.citymodel import build_city_tileset
from models3d.validate import check_tileset
from tests.models3d.conftest import content_tiles, decode_table, glb_parts, synthetic_table


def _tiles(doc: dict) -> list[dict]:
    out, todo = [], [doc["root"]]
    while todo:
        tile = todo.pop(0)
        out.append(tile)
        todo += tile.get("children", [])
    return out


def test_buildings_land_where_their_footprints_are(tmp_path: Path, table: BuildingTable) -> None:
    report = build_city_tileset(table, tmp_path / "city", max_features=400)
    assert report.buildings == 2500 and report.written == report.tiles > 4
    path = tmp_path / "city" / "tileset.json"
    assert json.loads(path.read_text())["asset"]["version"] == "1.1"
    index = {c: i for i, c in enumerate(table.codes)}
    seen: list[str] = []
    for uri, world, _ in content_tiles(path):
        doc, data, attrs = glb_parts(path.parent / uri)
        yup = attrs["POSITION"].astype(float)
        zup = np.stack([yup[:, 0], -yup[:, 2], yup[:, 1]], axis=1)
        geo = ecef_to_geodetic(zup @ world[:3, :3].T + world[:3, 3])
        cols = decode_table(doc, data)
        codes = np.array(cols["code"])[attrs["_FEATURE_ID_0"].astype(int)]
        rows = np.array([index[c] for c in codes])
        # Every vertex lies on its own building's outline or roof, at ground or roof height.
        dist = shapely.distance(table.footprints[rows], shapely.points(geo[:, :2]))
        assert dist.max() < 1e-7
        top = table.height_m[rows]
        assert np.all(np.isclose(geo[:, 2], 0, atol=0.02) | np.isclose(geo[:, 2], top, atol=0.02))
        assert cols["people"] == table.extra["people"][[index[c] for c in cols["code"]]].tolist()
        seen += cols["code"]
    assert sorted(seen) == sorted(table.codes.tolist())  # each building once
    # The shallowest content tiles hold the most prominent buildings: the tallest is there.
    first = content_tiles(path)[0][2]
    assert any(
        max(decode_table(*glb_parts(path.parent / t["content"]["uri"])[:2])["height_m"])
        == pytest.approx(table.height_m.max(), abs=0.01)
        for t in _tiles(json.loads(path.read_text()))
        if "content" in t and t["geometricError"] >= first["geometricError"] - 1e-9
    )


def test_geometric_error_shrinks_and_volumes_nest(tmp_path: Path, table: BuildingTable) -> None:
    build_city_tileset(table, tmp_path / "city", max_features=300)
    path = tmp_path / "city" / "tileset.json"
    assert check_tileset(path) == []
    tiles = _tiles(json.loads(path.read_text()))
    assert any(t["geometricError"] == 0 for t in tiles)
    assert max(t["geometricError"] for t in tiles) > 10
    # A tile without content opens whenever its region is in view: its error is at least
    # the region's size (a district seen whole shows its first buildings, not nothing).
    empty = [t for t in tiles if "content" not in t]
    assert empty, "the tree has tiles above the first content level"
    for t in empty:
        w, s, e, n = np.degrees(t["boundingVolume"]["region"][:4])
        width = (e - w) * M_PER_DEG * np.cos(np.radians((s + n) / 2))
        assert t["geometricError"] >= max(width, (n - s) * M_PER_DEG) - 0.01
    counts = [
        len(glb_parts(path.parent / t["content"]["uri"])[2]["_FEATURE_ID_0"])
        for t in tiles
        if "content" in t
    ]
    assert min(counts) > 0


def test_the_checker_sees_a_misplaced_tile(tmp_path: Path, table: BuildingTable) -> None:
    build_city_tileset(table, tmp_path / "city", max_features=300)
    path = tmp_path / "city" / "tileset.json"
    doc = json.loads(path.read_text())
    first = next(t for t in _tiles(doc) if "content" in t and "children" in t)
    first["transform"][12] += 500.0  # move the first content 500 m
    first["children"][0]["geometricError"] = 1e6
    path.write_text(json.dumps(doc))
    problems = "\n".join(check_tileset(path))
    assert "vertices outside" in problems and "geometric error larger" in problems


def test_a_rebuild_rewrites_only_changed_tiles(tmp_path: Path) -> None:
    table = synthetic_table(3000, seed=2)
    first = build_city_tileset(table, tmp_path / "city", max_features=300)
    again = build_city_tileset(table, tmp_path / "city", max_features=300)
    assert again.written == 0 and again.reused == first.tiles
    smallest = int(np.argmin(table.height_m + np.arange(len(table)) * 0))
    table.height_m[smallest] += 0.5
    changed = build_city_tileset(table, tmp_path / "city", max_features=300)
    assert 1 <= changed.written <= 2, changed
    assert not list(tmp_path.glob(".city.*")), "temporary folders left behind"


def test_rows_of_any_source(tmp_path: Path) -> None:
    square = shapely.box(114.0, 22.5, 114.0002, 22.5002)
    rows = [
        Building("A", square, None, floors=4, use="school", attrs={"seats": 1200, "name": "一中"}),
        Building("B", shapely.MultiPolygon([shapely.box(114.001, 22.5, 114.0012, 22.5002)]), 33.0),
    ]
    build_city_tileset(rows, tmp_path / "c")
    doc, data, _ = glb_parts(tmp_path / "c" / content_tiles(tmp_path / "c" / "tileset.json")[0][0])
    cols = decode_table(doc, data)
    assert cols["code"] == ["A", "B"] and cols["height_m"] == [12.0, 33.0]
    assert cols["name"] == ["一中", ""] and cols["seats"] == [1200, 0]


@pytest.mark.parametrize(
    ("building", "message"),
    [
        (Building("X", shapely.box(114, 22, 114.001, 22.001), 5000.0), "5000.0 m tall"),
        (Building("X", shapely.box(114, 22, 114.001, 22.001), -3.0), "-3.0 m tall"),
        (Building("X", shapely.Polygon(), 10.0), "empty or non-polygonal footprint"),
        (Building("X", shapely.Point(114, 22), 10.0), "non-polygonal"),
        (Building("X", shapely.box(114, 22, 114.001, 22.001), None), "neither a height nor floors"),
    ],
)
def test_bad_buildings_are_refused_before_anything_is_written(
    tmp_path: Path, building: Building, message: str
) -> None:
    with pytest.raises(GeometryError, match=message):
        build_city_tileset([building], tmp_path / "c")
    assert not (tmp_path / "c").exists()


def test_no_buildings(tmp_path: Path) -> None:
    with pytest.raises(TilesetError, match="no buildings"):
        build_city_tileset([], tmp_path / "c")


def test_a_failed_build_keeps_the_old_tileset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = synthetic_table(200)
    build_city_tileset(table, tmp_path / "c")
    before = (tmp_path / "c" / "tileset.json").read_bytes()
    table.height_m[:] += 1

    def boom(*args: object) -> bytes:
        raise RuntimeError("disk full")

    monkeypatch.setattr("models3d.tiles3d.citymodel.tile_glb", boom)
    with pytest.raises(RuntimeError):
        build_city_tileset(table, tmp_path / "c")
    assert (tmp_path / "c" / "tileset.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]
