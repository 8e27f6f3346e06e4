"""Point clouds: the laspy samples (LAS 1.2/1.4, LAZ, COPC) to valid, well-placed tilesets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models3d.errors import PointCloudError
from models3d.geodesy import ecef_to_geodetic
from models3d.tiles3d.pointcloud import convert_point_cloud
from tests.models3d.conftest import SAMPLES, assert_valid, decode_table, glb_parts

LAS = SAMPLES / "las"


def _all_points(tileset: Path) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    doc = json.loads(tileset.read_text())
    world = np.array(doc["root"]["transform"]).reshape(4, 4).T
    pts, colours, tables, todo = [], [], [], [doc["root"]]
    while todo:
        tile = todo.pop()
        todo += tile.get("children", [])
        if "content" in tile:
            gdoc, data, attrs = glb_parts(tileset.parent / tile["content"]["uri"])
            assert gdoc["meshes"][0]["primitives"][0]["mode"] == 0
            pts.append(attrs["POSITION"].astype(float))
            colours.append(attrs["COLOR_0"])
            table = decode_table(gdoc, data)
            tables.append(
                {
                    "class": np.array(table["class"])[attrs["_FEATURE_ID_0"].astype(int)],
                    "name": table["name"],
                }
            )
    yup = np.concatenate(pts)
    zup = np.stack([yup[:, 0], -yup[:, 2], yup[:, 1]], axis=1)
    return ecef_to_geodetic(zup @ world[:3, :3].T + world[:3, 3]), np.concatenate(colours), tables


def test_autzen_laz(tmp_path: Path) -> None:
    report = convert_point_cloud(
        LAS / "autzen_trim.laz", tmp_path / "a", leaf_points=15_000, memory_mb=1
    )
    assert report.points == 110_000 and report.tiles > 4
    assert_valid(report.tileset)
    geo, colours, tables = _all_points(report.tileset)
    assert len(geo) == 110_000
    # Autzen stadium, Eugene, Oregon.
    assert geo[:, 0].mean() == pytest.approx(-123.07, abs=0.02)
    assert geo[:, 1].mean() == pytest.approx(44.06, abs=0.02)
    assert 100 < geo[:, 2].mean() < 160  # 406-520 ft
    assert colours[:, :3].std() > 10 and (colours[:, 3] == 255).all()
    classes = np.concatenate([t["class"] for t in tables])
    import laspy

    truth = laspy.read(LAS / "autzen_trim.laz").classification
    assert np.bincount(classes).tolist() == np.bincount(np.asarray(truth)).tolist()
    assert "ground" in {n for t in tables for n in t["name"]}


@pytest.mark.parametrize(
    ("name", "crs"),
    [
        ("simple.las", "EPSG:2994"),
        ("simple.laz", "EPSG:2994"),
        ("simple.copc.laz", None),
        ("test1_4.las", None),
    ],
)
def test_samples(tmp_path: Path, name: str, crs: str | None) -> None:
    report = convert_point_cloud(LAS / name, tmp_path / "o", crs)
    assert report.points == {"test1_4.las": 1000}.get(name, 1065)
    assert_valid(report.tileset)


def test_missing_crs_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(PointCloudError, match=r"declares no CRS: pass --crs EPSG:"):
        convert_point_cloud(LAS / "simple.las", tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_wrong_crs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PointCloudError, match="check --crs"):
        convert_point_cloud(LAS / "simple.las", tmp_path / "o", "EPSG:4326")
    with pytest.raises(PointCloudError, match="not a CRS pyproj knows"):
        convert_point_cloud(LAS / "simple.las", tmp_path / "o", "EPSG:999999")


def test_broken_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.las"
    bad.write_bytes(b"LASF" + b"\0" * 50)
    with pytest.raises(PointCloudError, match="not a readable LAS"):
        convert_point_cloud(bad, tmp_path / "o", "EPSG:4547")


def test_cli(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "twin.cli.main",
            "3d",
            "import-las",
            str(LAS / "simple.laz"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (
        run.returncode == 1 and "pass --crs EPSG:" in run.stderr and "Traceback" not in run.stderr
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "twin.cli.main",
            "3d",
            "import-las",
            str(LAS / "simple.laz"),
            "--crs",
            "EPSG:2994",
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "1,065 points" in run.stdout
