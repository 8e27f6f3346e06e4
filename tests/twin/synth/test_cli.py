"""``twin generate`` on the command line: given street outlines, the truth file, reruns, errors."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import shapely
from shapely import box

from tests.utils.cli import twin
from twin.db.cluster import LocalCluster

from ...conftest import TEST_DB, drop_database, fresh_database
from .test_generate import DISTRICT, assert_tiles, one

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def target(pg_cluster: LocalCluster) -> Iterator[tuple[str, dict[str, str]]]:
    name = f"{TEST_DB}_synth_cli"
    conninfo = fresh_database(pg_cluster, name)
    yield conninfo, {**os.environ, "DATABASE_URL": pg_cluster.url(name)}
    drop_database(pg_cluster, name)


def _bands(conninfo: str, skip: str | None = None) -> dict[str, object]:
    """Street outlines as overlapping north-south bands that stick out of the district."""
    with psycopg.connect(conninfo) as conn:
        (wkb,) = conn.execute(
            "SELECT ST_AsBinary(geom) FROM twin.admin_unit WHERE code = %s", (DISTRICT,)
        ).fetchone()  # type: ignore[misc]
        streets = [r[0] for r in conn.execute(
            "SELECT code FROM twin.admin_unit WHERE parent_code = %s ORDER BY code", (DISTRICT,)
        )]  # fmt: skip
    xmin, ymin, xmax, ymax = shapely.from_wkb(bytes(wkb)).bounds
    width = (xmax - xmin) / len(streets)
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": f"band {i}"},
            "geometry": shapely.geometry.mapping(
                box(xmin + i * width - 0.002, ymin - 0.01, xmin + (i + 1) * width + 0.002, ymax)
            ),
        }
        for i, code in enumerate(streets)
        if code != skip
    ]
    return {"type": "FeatureCollection", "features": features}


def test_given_street_outlines_truth_and_rerun(
    target: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    conninfo, env = target
    streets = tmp_path / "streets.geojson"
    streets.write_text(json.dumps(_bands(conninfo)), encoding="utf-8")
    truth = tmp_path / "truth.csv"
    args = ("generate", "--district", DISTRICT, "--scale", "small", "--seed", "3",
            "--streets", str(streets), "--truth", str(truth), "--workers", "1")  # fmt: skip
    done = twin(env, *args)
    assert done.returncode == 0, done.stderr
    assert f"run {DISTRICT}:440306017:small:3:" in done.stdout
    with truth.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and rows[0]["district_code"] == DISTRICT and rows[0]["noise"]
    with psycopg.connect(conninfo) as conn:
        assert_tiles(conn, DISTRICT, "street")
        # The first band is the westmost street: its outline lies in the band.
        assert one(conn, "SELECT ST_XMax(geom) FROM twin.admin_unit WHERE code = '440306017'") < (
            one(conn, "SELECT ST_XMin(geom) FROM twin.admin_unit WHERE code = %s", DISTRICT) + 0.2
        )
    again = twin(env, *args[:-2])
    assert again.returncode == 0, again.stderr
    assert "is complete already" in again.stdout


def test_bad_arguments_are_one_clear_sentence(
    target: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    conninfo, env = target
    missing = twin(env, "generate", "--scale", "medium")
    assert missing.returncode == 1
    assert "error: --district is required below city scale" in missing.stderr
    gappy = tmp_path / "gappy.geojson"
    gappy.write_text(json.dumps(_bands(conninfo, skip="440306018")), encoding="utf-8")
    out = twin(env, "generate", "--district", DISTRICT, "--streets", str(gappy), "--replace")
    assert out.returncode == 1
    assert "the streets file has no outline for 440306018" in out.stderr
    assert "Traceback" not in out.stderr
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json", encoding="utf-8")
    out = twin(env, "generate", "--district", DISTRICT, "--streets", str(broken))
    assert out.returncode == 1 and "is not a GeoJSON FeatureCollection" in out.stderr
    out = twin(env, "generate", "--district", "440399", "--scale", "small")
    assert out.returncode == 1 and "district 440399 is not loaded" in out.stderr
