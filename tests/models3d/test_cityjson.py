"""CityJSON 1.1 / 2.0 LoD1 and LoD2 buildings into the city model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models3d.buildings import concat_tables
from models3d.cityjson import read_cityjson
from models3d.errors import CityJsonError
from models3d.tiles3d.citymodel import build_city_tileset
from tests.models3d.conftest import (
    SAMPLES,
    assert_valid,
    content_tiles,
    decode_table,
    glb_parts,
    synthetic_table,
)

CJ = SAMPLES / "cityjson"


def test_lod2_with_parts(tmp_path: Path) -> None:
    model = read_cityjson(CJ / "DH_01_subs.city.json", "EPSG:7415")
    assert model.version == "1.1" and len(model.table) == 9 and model.skipped == 3
    report = build_city_tileset(model.table, tmp_path / "dh")
    assert_valid(report.out / "tileset.json")
    uri = content_tiles(report.out / "tileset.json")[0][0]
    cols = decode_table(*glb_parts(report.out / uri)[:2])
    assert set(cols["kind"]) == {"Building", "BuildingPart"}
    # The Hague, in RD New.
    lon, lat = np.asarray(model.table.footprints[0].centroid.coords[0])
    assert lon == pytest.approx(4.3, abs=0.1) and lat == pytest.approx(52.07, abs=0.05)


def test_highest_lod_up_to_2_is_taken(tmp_path: Path) -> None:
    model = read_cityjson(CJ / "multi_lod.json", "EPSG:7415")
    assert model.version == "2.0" and len(model.table) == 10
    lod22 = read_cityjson(CJ / "multi_lod.json", "EPSG:7415").table.meshes[0]
    assert len(lod22) > 12  # more than a box's 12 triangles: the LoD 2.2 roof
    report = build_city_tileset(model.table, tmp_path / "m")
    assert_valid(report.out / "tileset.json")


def test_crs_from_metadata_and_closed_cube(tmp_path: Path) -> None:
    doc = json.loads((CJ / "cube.json").read_text())
    doc["metadata"] = {"referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/4547"}
    doc["transform"]["translate"] = [500000.0, 2496000.0, 0.0]
    (tmp_path / "cube.json").write_text(json.dumps(doc))
    model = read_cityjson(tmp_path / "cube.json")
    assert model.crs.startswith("CGCS2000")
    mesh = model.table.meshes[0]
    assert len(mesh) == 12
    # Every face of the closed cube points away from its centre.
    centre = mesh.reshape(-1, 3).mean(axis=0)
    k = np.array([np.cos(np.radians(22.56)) * 111_320, 110_700, 1.0])
    a, b, c = ((mesh[:, i] - centre) * k for i in range(3))
    assert (np.einsum("ij,ij->i", np.cross(b - a, c - a), (a + b + c) / 3) > 0).all()


def test_bad_cityjson(tmp_path: Path) -> None:
    with pytest.raises(CityJsonError, match="pass --crs"):
        read_cityjson(CJ / "cube.json")
    (tmp_path / "old.json").write_text(json.dumps({"type": "CityJSON", "version": "1.0"}))
    with pytest.raises(CityJsonError, match=r"versions 1\.1 and 2\.0"):
        read_cityjson(tmp_path / "old.json")
    (tmp_path / "x.json").write_text("{nope")
    with pytest.raises(CityJsonError, match="not a readable JSON"):
        read_cityjson(tmp_path / "x.json")


def test_same_city_model_as_extruded_buildings(tmp_path: Path) -> None:
    both = concat_tables(
        synthetic_table(300), read_cityjson(CJ / "rotterdam_subset.json", "EPSG:7415").table
    )
    report = build_city_tileset(both, tmp_path / "c", max_features=100)
    assert report.buildings == 316
    assert_valid(report.out / "tileset.json")


def test_cli(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "twin.cli.main",
            "3d",
            "import-cityjson",
            str(CJ / "rotterdam_subset.json"),
            "--crs",
            "EPSG:7415",
            "--out",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "CityJSON 2.0 (Amersfoort / RD New), 16 buildings" in run.stdout
