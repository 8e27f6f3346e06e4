"""``twin entity``: classes, code (GeoJSON and CSV with WKT in a metric CRS), show, link, beidou."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from shapely import Point
from shapely.geometry import mapping

from tests.blocks.seed import X0, Y0, A, B, D, footprint
from twin.crs import WGS84, parse_crs, transform_geometry

pytestmark = [pytest.mark.db, pytest.mark.slow]


def twin(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twin.cli.main", *args],
        env={**os.environ, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        check=False,
    )


def test_classes_code_show_link(committed: str, db_url: str, tmp_path: Path) -> None:
    listed = twin(db_url, "entity", "classes", "--load", "--level", "major")
    assert listed.returncode == 0, listed.stderr
    assert "169 classes loaded" in listed.stdout and "9000  城市部件  City parts" in listed.stdout
    shapes = [footprint(X0 + 0.001, Y0 + 0.001), footprint(X0 + D + 0.001, Y0 + 0.001)]
    features = [
        {"type": "Feature", "geometry": mapping(g), "properties": {"bid": f"b{k}", "mc": "楼"}}
        for k, g in enumerate([*shapes, footprint(X0 - 1, Y0)])
    ]
    src = tmp_path / "buildings.geojson"
    src.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    args = ["entity", "code", str(src), "--class", "3101", "--id-column", "bid"]
    first = twin(db_url, *args, "--name-column", "mc", "-o", str(tmp_path / "r.csv"))
    assert first.returncode == 0, first.stderr
    assert "row 3: rejected: geometry: lies outside every community polygon" in first.stdout
    assert "2 new, 0 existing, 0 updated, 0 recoded, 1 rejected" in first.stdout
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as fh:
        report = list(csv.DictReader(fh))
    assert [r["code"] for r in report[:2]] == [f"{A}3101000001", f"{B}3101000001"]
    again = twin(db_url, *args)
    assert "0 new, 2 existing" in again.stdout
    shown = json.loads(twin(db_url, "entity", "show", f"{A}3101000001").stdout)
    assert shown["name"] == "楼" and shown["source_id"] == "b0" and shown["status"] == "active"
    with psycopg.connect(committed) as conn:
        conn.execute("INSERT INTO twin.legal_entity (source_id, name) VALUES ('L1', '某公司')")
        (lid,) = conn.execute("SELECT id FROM twin.legal_entity WHERE source_id = 'L1'").fetchone()  # type: ignore[misc]
    linked = twin(
        db_url,
        "entity",
        "link",
        f"{A}3101000001",
        "--legal-entity",
        str(lid),
        "--relation",
        "owner",
    )
    assert linked.returncode == 0, linked.stderr
    assert json.loads(twin(db_url, "entity", "show", f"{A}3101000001").stdout)["links"]


def test_csv_with_wkt_in_a_metric_crs_and_the_beidou_form(
    committed: str, db_url: str, tmp_path: Path
) -> None:
    metric = parse_crs("EPSG:4547")
    hydrant = Point(X0 + 0.004, Y0 + 0.004)
    src = tmp_path / "hydrants.csv"
    src.write_text(
        "id,wkt\nh1," + transform_geometry(hydrant, WGS84, metric).wkt + "\nh2,POINT (1 2)\n",
        "utf-8",
    )
    done = twin(
        db_url,
        "entity",
        "code",
        str(src),
        "--class",
        "9101",
        "--id-column",
        "id",
        "--crs",
        "EPSG:4547",
        "--form",
        "beidou",
        "-o",
        str(tmp_path / "r.geojson"),
    )
    assert done.returncode == 0, done.stderr
    assert "1 new" in done.stdout and "row 2: rejected: geometry: lies outside" in done.stdout
    feature = json.loads((tmp_path / "r.geojson").read_text("utf-8"))["features"][0]
    got = feature["properties"]
    assert got["code"].startswith("N49F") and got["code"].endswith("91010001")
    assert got["community_code"] == A and len(got["code"]) == 22
    lon, lat = feature["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx((hydrant.x, hydrant.y), abs=1e-8)
    bd = twin(db_url, "entity", "beidou", str(lon), str(lat), "--level", "7")
    assert bd.stdout.startswith(got["code"][:14])
