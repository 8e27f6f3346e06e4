"""Importing real data: every format, every CRS, per-row reasons, nothing half-imported."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

import geopandas
import shapely
import shapely.affinity
from shapely import Polygon

from tests.utils.blocks import GRID, X0, Y0, seed_chain
from twin.crs import GCJ02, WGS84, parse_crs, transform_geometry
from twin.db.connect import connect
from twin.load.errors import DataImportError
from twin.load.importer import import_file

pytestmark = pytest.mark.db


def box(i: int, size: float = 0.0002) -> Polygon:
    x, y = X0 + 0.001 + i * 0.0004, Y0 + 0.001
    return Polygon([(x, y), (x + size, y), (x + size, y + size), (x, y + size)])


def _count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM twin.{table}").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "zip", "parquet", "csv"])
def test_buildings_in_every_format_get_consecutive_codes(
    db: psycopg.Connection[Any], tmp_path: Path, fmt: str
) -> None:
    seed_chain(db)
    frame = geopandas.GeoDataFrame(
        {"name": ["1栋", "2栋", "3栋"], "floors": [6, 30, 12]},
        geometry=[box(0), box(1), box(2)],
        crs="EPSG:4326",
    )
    path = tmp_path / f"b.{fmt}"
    if fmt == "csv":
        frame.assign(wkt=frame.geometry.to_wkt()).drop(columns="geometry").to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path)
    elif fmt == "zip":
        folder = tmp_path / "shp"
        folder.mkdir()
        frame.to_file(folder / "b.shp")
        import zipfile

        with zipfile.ZipFile(path, "w") as z:
            for f in folder.iterdir():
                z.write(f, f.name)
    else:
        frame.to_file(
            path, driver={"geojson": "GeoJSON", "gpkg": "GPKG", "shp": "ESRI Shapefile"}[fmt]
        )
    report = import_file(db, "buildings", path, WGS84)
    assert report.accepted == 3 and not report.rejected
    codes = [r[0] for r in db.execute("SELECT code FROM twin.building ORDER BY code")]
    assert codes == [f"{GRID}0000{i}" for i in (1, 2, 3)]
    heights = [r[0] for r in db.execute("SELECT height_m FROM twin.building ORDER BY code")]
    assert heights == [18.0, 90.0, 36.0]


def test_gcj02_input_lands_shifted_to_wgs84(db: psycopg.Connection[Any], tmp_path: Path) -> None:
    seed_chain(db)
    true_wgs = box(4)
    gcj = transform_geometry(true_wgs, WGS84, GCJ02)
    path = tmp_path / "gcj.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"floors": 5},
                        "geometry": shapely.geometry.mapping(gcj),
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    report = import_file(db, "buildings", path, parse_crs("gcj02"))
    assert report.accepted == 1
    row = db.execute("SELECT ST_AsText(footprint) FROM twin.building").fetchone()
    assert row is not None
    stored = shapely.from_wkt(row[0])
    assert stored.centroid.distance(true_wgs.centroid) < 1e-6


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_gbk_and_bom_csv(db: psycopg.Connection[Any], tmp_path: Path, encoding: str) -> None:
    seed_chain(db)
    path = tmp_path / "roads.csv"
    line = f"LINESTRING({X0 + 0.001} {Y0 + 0.005}, {X0 + 0.009} {Y0 + 0.005})"
    path.write_bytes(f'名称,wkt\n翻身路,"{line}"\n'.encode(encoding))
    report = import_file(db, "roads", path, WGS84, mapping={"name": "名称"})
    assert report.accepted == 1, report.rejected
    assert db.execute("SELECT name, district_code FROM twin.road").fetchone() == (
        "翻身路",
        "440306",
    )


def test_bad_rows_are_reported_and_good_rows_land(
    db: psycopg.Connection[Any], tmp_path: Path
) -> None:
    seed_chain(db)
    bowtie = Polygon(
        [
            (X0 + 0.004, Y0 + 0.004),
            (X0 + 0.0045, Y0 + 0.0045),
            (X0 + 0.0045, Y0 + 0.004),
            (X0 + 0.004, Y0 + 0.0045),
        ]
    )
    far = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])  # "EPSG:4326" that is really metres
    rows = [
        ("good", box(0).wkt, "6"),
        ("bowtie", bowtie.wkt, "6"),
        ("far", far.wkt, "6"),
        ("nofloors", box(1).wkt, ""),
        ("absurd", box(2).wkt, "900"),
        ("badwkt", "POLYGON((", "3"),
        ("outside", shapely.affinity.translate(box(0), 0.1, 0.1).wkt, "3"),
    ]
    path = tmp_path / "mixed.csv"
    path.write_text(
        "name,wkt,floors\n" + "\n".join(f'{n},"{w}",{f}' for n, w, f in rows), encoding="utf-8"
    )
    report = import_file(db, "buildings", path, WGS84)
    rejected = {row: (fieldname, reason) for row, fieldname, reason in report.rejected}
    assert report.accepted == 2  # good, and the repaired bowtie
    assert [r for r, _ in report.repaired] == [2]
    assert rejected[3][0] == "geometry" and "outside China" in rejected[3][1]
    assert rejected[4][0] == "floors"
    assert rejected[5][0] == "floors" and "900" in rejected[5][1]
    assert rejected[6][0] == "geometry" and "unreadable" in rejected[6][1]
    assert rejected[7][0] == "geometry" and "no grid" in rejected[7][1]


def test_admin_import_checks_codes_parents_and_duplicates(
    db: psycopg.Connection[Any], tmp_path: Path
) -> None:
    seed_chain(db)
    feats = [
        ("44030601700102", "第二网格"),
        ("44030601700102", "重复"),
        ("44030699900101", "孤儿"),
        ("4403060170010", "坏码"),
        ("44030601700103", ""),
    ]
    path = tmp_path / "grids.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": c, "name": n},
                        "geometry": shapely.geometry.mapping(box(i)),
                    }
                    for i, (c, n) in enumerate(feats)
                ],
            }
        ),
        encoding="utf-8",
    )
    report = import_file(db, "admin", path, WGS84)
    assert report.accepted == 1
    reasons = {row: reason for row, _, reason in report.rejected}
    assert "duplicate" in reasons[2] and "unknown parent" in reasons[3]
    assert "digits" in reasons[4] and "name" in reasons[5]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.geojson", b"", "is empty"),
        ("text.gpkg", b"this is not a geopackage", "not a readable GeoPackage"),
        ("csv.geojson", b"a,b\n1,2\n", "not a readable GeoJSON"),
        ("nogeom.csv", b"a,b\n1,2\n", "no geometry column"),
        ("data.xls", b"x", "unknown format"),
    ],
)
def test_broken_files_are_one_sentence_and_change_nothing(
    db: psycopg.Connection[Any], tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    seed_chain(db)
    before = _count(db, "building")
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataImportError, match=message):
        import_file(db, "buildings", path, WGS84)
    assert _count(db, "building") == before


def test_concurrent_imports_never_share_a_code(db_conninfo: str, tmp_path: Path) -> None:
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        seed_chain(conn)
    try:
        paths = []
        for k in range(2):
            frame = geopandas.GeoDataFrame(
                {"floors": [5] * 10},
                geometry=[box(i + 10 * k, 0.0001) for i in range(10)],
                crs="EPSG:4326",
            )
            paths.append(tmp_path / f"b{k}.geojson")
            frame.to_file(paths[-1], driver="GeoJSON")
        errors: list[BaseException] = []

        def run(path: Path) -> None:
            try:
                with connect(db_conninfo) as conn:
                    import_file(conn, "buildings", path, WGS84)
                    conn.commit()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(p,)) for p in paths]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        with psycopg.connect(db_conninfo) as conn:
            codes = [r[0] for r in conn.execute("SELECT code FROM twin.building")]
        assert len(codes) == len(set(codes)) == 20
    finally:
        with psycopg.connect(db_conninfo, autocommit=True) as conn:
            conn.execute("SET twin.bulk = 'on'")
            conn.execute("DELETE FROM twin.building WHERE grid_code = %s", (GRID,))
            conn.execute(
                "DELETE FROM twin.admin_unit WHERE code LIKE '440306017%%' OR code = '440306'"
            )
