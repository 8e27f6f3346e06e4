"""Importing real data: every format, every CRS, per-row reasons, nothing half-imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import psycopg
import pytest

import geopandas
import shapely
import shapely.affinity
from shapely import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from tests.utils.blocks import DISTRICT, GRID, X0, Y0, delete_chain, seed_chain
from twin.crs import BD09, GCJ02, METRIC, WGS84, parse_crs, transform_geometry
from twin.db.connect import connect
from twin.load import buildings
from twin.load.errors import DataImportError
from twin.load.importer import import_file
from twin.load.reader import read_source

pytestmark = pytest.mark.db


def box(i: int, size: float = 0.0002) -> Polygon:
    x, y = X0 + 0.001 + i * 0.0004, Y0 + 0.001
    return Polygon([(x, y), (x + size, y), (x + size, y + size), (x, y + size)])


def _count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM twin.{table}").fetchone()
    assert row is not None
    return int(row[0])


def _codes(conn: psycopg.Connection[Any]) -> list[str]:
    return [r[0] for r in conn.execute("SELECT code FROM twin.building ORDER BY code")]


def write_geojson(path: Path, features: list[tuple[dict[str, Any], BaseGeometry]]) -> Path:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
            for props, geom in features
        ],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(path: Path, header: str, rows: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


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
        with zipfile.ZipFile(path, "w") as z:
            for f in folder.iterdir():
                z.write(f, f.name)
    else:
        frame.to_file(
            path, driver={"geojson": "GeoJSON", "gpkg": "GPKG", "shp": "ESRI Shapefile"}[fmt]
        )
    report = import_file(db, "buildings", path, WGS84)
    assert report.accepted == 3 and not report.rejected and report.rows == 3
    assert _codes(db) == [f"{GRID}0000{i}" for i in (1, 2, 3)]
    heights = [r[0] for r in db.execute("SELECT height_m FROM twin.building ORDER BY code")]
    assert heights == [18.0, 90.0, 36.0]


def test_lon_lat_csv_is_read_as_points(db: psycopg.Connection[Any], tmp_path: Path) -> None:
    seed_chain(db)
    path = write_csv(tmp_path / "p.csv", "name,经度,纬度", [f"a,{X0 + 0.001},{Y0 + 0.001}"])
    source = read_source(path)
    point = source.rows[0].geometry
    assert point is not None and point.geom_type == "Point"
    assert (point.x, point.y) == pytest.approx((X0 + 0.001, Y0 + 0.001))
    report = import_file(db, "buildings", path, WGS84, mapping={"floors": "name"})
    assert report.rejected == [(1, "geometry", "Point holds no polygons")]
    report = import_file(db, "roads", path, WGS84)
    assert report.rejected == [(1, "geometry", "Point holds no lines")]


def test_gpkg_layers_must_be_chosen(db: psycopg.Connection[Any], tmp_path: Path) -> None:
    seed_chain(db)
    path = tmp_path / "two.gpkg"
    for layer, geom in (("楼栋", box(0)), ("other", box(1))):
        frame = geopandas.GeoDataFrame({"floors": [3]}, geometry=[geom], crs="EPSG:4326")
        frame.to_file(path, layer=layer, driver="GPKG")
    with pytest.raises(DataImportError, match="2 layers"):
        import_file(db, "buildings", path, WGS84)
    with pytest.raises(DataImportError, match="no layer 'nope'"):
        import_file(db, "buildings", path, WGS84, layer="nope")
    assert import_file(db, "buildings", path, WGS84, layer="楼栋").accepted == 1


@pytest.mark.parametrize("crs", [GCJ02, BD09, METRIC])
def test_declared_crs_is_converted_to_wgs84(
    db: psycopg.Connection[Any], tmp_path: Path, crs: Any
) -> None:
    seed_chain(db)
    true_wgs = box(4)
    path = write_geojson(
        tmp_path / "in.geojson", [({"floors": 5}, transform_geometry(true_wgs, WGS84, crs))]
    )
    report = import_file(db, "buildings", path, crs)
    assert report.accepted == 1, report.rejected
    row = db.execute("SELECT ST_AsText(footprint) FROM twin.building").fetchone()
    assert row is not None
    stored = shapely.from_wkt(row[0])
    assert stored.centroid.distance(true_wgs.centroid) < 1e-7  # about 1 cm
    # The GCJ-02 and BD-09 offsets in Shenzhen are hundreds of metres: they were applied.
    assert crs == METRIC or transform_geometry(true_wgs, WGS84, crs).distance(stored) > 0.002


def test_file_crs_that_differs_from_the_declared_one_is_noted(
    db: psycopg.Connection[Any], tmp_path: Path
) -> None:
    seed_chain(db)
    path = tmp_path / "b.gpkg"
    geopandas.GeoDataFrame({"floors": [3]}, geometry=[box(10)], crs="EPSG:4326").to_file(path)
    report = import_file(db, "buildings", path, parse_crs("gcj02"))
    assert report.accepted == 1
    assert report.notes[0][0] == 0 and "EPSG:4326" in report.notes[0][1]
    assert all(row != 0 for row, _ in import_file(db, "buildings", path, WGS84).notes)


def test_z_coordinates_are_dropped(db: psycopg.Connection[Any], tmp_path: Path) -> None:
    seed_chain(db)
    flat = box(0)
    with_z = Polygon([(x, y, 12.5) for x, y in flat.exterior.coords])
    path = write_geojson(tmp_path / "z.geojson", [({"floors": 2}, with_z)])
    assert import_file(db, "buildings", path, WGS84).accepted == 1
    assert db.execute("SELECT ST_NDims(footprint) FROM twin.building").fetchone() == (2,)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_gbk_and_bom_csv(db: psycopg.Connection[Any], tmp_path: Path, encoding: str) -> None:
    seed_chain(db)
    line = f"LINESTRING({X0 + 0.001} {Y0 + 0.005}, {X0 + 0.009} {Y0 + 0.005})"
    path = write_csv(tmp_path / "roads.csv", "名称,等级,wkt", [f'翻身路,主干道,"{line}"'], encoding)
    report = import_file(db, "roads", path, WGS84)
    assert report.accepted == 1, report.rejected
    assert db.execute("SELECT name, road_class, district_code FROM twin.road").fetchone() == (
        "翻身路",
        "主干道",
        DISTRICT,
    )


def test_semicolon_csv_and_ewkt(db: psycopg.Connection[Any], tmp_path: Path) -> None:
    seed_chain(db)
    path = write_csv(tmp_path / "b.csv", "floors;wkt", [f'4;"SRID=4326;{box(0).wkt}"'])
    assert import_file(db, "buildings", path, WGS84).accepted == 1


def test_bad_rows_are_reported_and_good_rows_land(
    db: psycopg.Connection[Any], tmp_path: Path
) -> None:
    seed_chain(db)
    a, b = X0 + 0.004, X0 + 0.0045
    bowtie = Polygon([(a, Y0 + 0.004), (b, Y0 + 0.0045), (b, Y0 + 0.004), (a, Y0 + 0.0045)])
    far = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])  # "EPSG:4326" that is really metres
    rows = [
        ("good", box(0).wkt, "6", ""),
        ("bowtie", bowtie.wkt, "6", ""),
        ("far", far.wkt, "6", ""),
        ("nofloors", box(1).wkt, "", ""),
        ("absurd", box(2).wkt, "900", ""),
        ("badwkt", "POLYGON((", "3", ""),
        ("outside", shapely.affinity.translate(box(0), 0.1, 0.1).wkt, "3", ""),
        ("flat", box(3).wkt, "30", "10"),
        ("units", box(5).wkt, "12层", "37.5米"),
        ("empty", "", "3", ""),
        ("text", box(6).wkt, "六", ""),
    ]
    path = write_csv(
        tmp_path / "mixed.csv",
        "name,wkt,floors,height",
        [f'{n},"{w}",{f},{h}' for n, w, f, h in rows],
    )
    report = import_file(db, "buildings", path, WGS84)
    rejected = {row: (fieldname, reason) for row, fieldname, reason in report.rejected}
    assert report.accepted == 3  # good, the repaired bowtie, and "units"
    assert [r for r, _ in report.repaired] == [2]
    assert "Self-intersection" in report.repaired[0][1]
    assert rejected[3][0] == "geometry" and "outside China" in rejected[3][1]
    assert rejected[4][0] == "floors"
    assert rejected[5][0] == "floors" and "900" in rejected[5][1]
    assert rejected[6][0] == "geometry" and "unreadable" in rejected[6][1]
    assert rejected[7][0] == "geometry" and "no grid" in rejected[7][1]
    assert rejected[8][0] == "height_m" and "under 2 m" in rejected[8][1]
    assert rejected[10][0] == "geometry" and "empty" in rejected[10][1]
    assert rejected[11][0] == "floors" and "not a number" in rejected[11][1]
    assert db.execute(
        "SELECT floors, height_m FROM twin.building WHERE name = 'units'"
    ).fetchone() == (12, 37.5)


def test_wrong_crs_rows_are_rejected_and_the_rest_land(
    db: psycopg.Connection[Any], tmp_path: Path
) -> None:
    seed_chain(db)
    metric = transform_geometry(box(1), WGS84, METRIC)  # a row in EPSG:4547 among WGS84 rows
    path = write_geojson(tmp_path / "m.geojson", [({"floors": 3}, box(0)), ({"floors": 3}, metric)])
    report = import_file(db, "buildings", path, WGS84)
    assert report.accepted == 1
    assert report.rejected[0][:2] == (2, "geometry")
    assert "outside China" in report.rejected[0][2] and "--crs" in report.rejected[0][2]


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
        ("44030601700100", "零号"),
        ("4403060170010100001", "楼栋"),
    ]
    path = write_geojson(
        tmp_path / "grids.geojson",
        [({"code": c, "name": n}, box(i)) for i, (c, n) in enumerate(feats)],
    )
    report = import_file(db, "admin", path, WGS84)
    assert report.accepted == 1
    reasons = {row: (fieldname, reason) for row, fieldname, reason in report.rejected}
    assert reasons[2] == ("code", "duplicate code 44030601700102 (row 1)")
    assert "unknown parent" in reasons[3][1] and "digits" in reasons[4][1]
    assert reasons[5][0] == "name" and reasons[6][0] == "code"
    assert "not an admin unit" in reasons[7][1]


def test_admin_children_may_come_before_parents(
    db: psycopg.Connection[Any], tmp_path: Path
) -> None:
    seed_chain(db)
    community = "440306017002"
    far_grid = shapely.affinity.translate(box(0), 0.05, 0)
    path = write_geojson(
        tmp_path / "units.geojson",
        [
            ({"编码": f"{community}01", "名称": "网格一"}, box(0)),
            ({"编码": f"{community}02", "名称": "网格二"}, far_grid),
            ({"编码": community, "名称": "新社区"}, box(0, 0.003)),
            ({"编码": "440306017", "名称": "新名字"}, box(0, 0.01)),
        ],
    )
    report = import_file(db, "admin", path, WGS84)
    assert (report.accepted, report.updated, report.rejected) == (4, 1, [])
    assert any(row == 2 and "lies inside its parent" in m for row, m in report.notes)
    kept = db.execute(
        "SELECT name, attrs ->> 'imported_name' FROM twin.admin_unit WHERE code = '440306017'"
    ).fetchone()
    assert kept == ("单元440306017", "新名字")


def test_road_segments_of_one_name_are_merged(db: psycopg.Connection[Any], tmp_path: Path) -> None:
    seed_chain(db)
    y = Y0 + 0.005
    segments = [
        ({"name": "宝安大道"}, LineString([(X0 + 0.001, y), (X0 + 0.004, y)])),
        ({"name": "宝安大道"}, LineString([(X0 + 0.004, y), (X0 + 0.008, y)])),
        ({"name": ""}, LineString([(X0 + 0.001, y), (X0 + 0.002, y)])),
        ({"name": "远方路"}, LineString([(X0 + 1, y), (X0 + 1.01, y)])),
    ]
    path = write_geojson(tmp_path / "roads.geojson", segments)
    report = import_file(db, "roads", path, WGS84)
    assert report.accepted == 2
    assert report.notes == [(1, "rows 1, 2 merged into 宝安大道")]
    assert {r: f for r, f, _ in report.rejected} == {3: "name", 4: "geometry"}
    row = db.execute("SELECT ST_NumGeometries(geom), ST_Length(geom) FROM twin.road").fetchone()
    assert row is not None and row[0] == 1 and row[1] == pytest.approx(0.007)
    again = import_file(db, "roads", path, WGS84)
    assert (again.accepted, again.updated, _count(db, "road")) == (2, 2, 1)


def test_given_codes_are_checked_and_new_ones_go_above_them(
    db: psycopg.Connection[Any], tmp_path: Path
) -> None:
    grids = seed_chain(db, grids=2)  # two strips: x < X0 + 0.005 and beyond
    east = shapely.affinity.translate(box(0), 0.006, 0)
    rows = [
        ({"code": f"{GRID}00007", "floors": 3}, box(0)),
        ({"code": f"{grids[1]}00001", "floors": 3}, box(1)),  # west strip, east grid's code
        ({"code": "12345", "floors": 3}, box(2)),
        ({"code": f"{GRID}00007", "floors": 3}, box(3)),
        ({"floors": 3}, box(4)),
        ({"floors": 3}, east),
    ]
    path = write_geojson(tmp_path / "b.geojson", rows)
    report = import_file(db, "buildings", path, WGS84)
    assert report.accepted == 3
    reasons = {row: reason for row, _, reason in report.rejected}
    assert "does not start with its grid" in reasons[2] and "digits" in reasons[3]
    assert "duplicate: row 1" in reasons[4]
    assert _codes(db) == [f"{GRID}00007", f"{GRID}00008", f"{grids[1]}00001"]


def test_reimport_updates_instead_of_duplicating(
    db: psycopg.Connection[Any], tmp_path: Path
) -> None:
    seed_chain(db)
    rows: list[tuple[dict[str, Any], BaseGeometry]] = [({"floors": 3}, box(i)) for i in range(3)]
    path = write_geojson(tmp_path / "b.geojson", rows)
    import_file(db, "buildings", path, WGS84)
    first = _codes(db)
    taller = write_geojson(tmp_path / "c.geojson", [({"floors": 9}, g) for _, g in rows])
    report = import_file(db, "buildings", taller, WGS84)
    assert (report.accepted, report.updated) == (3, 3)
    assert _codes(db) == first
    assert {r[0] for r in db.execute("SELECT floors FROM twin.building")} == {9}
    assert all("same footprint" in m for _, m in report.notes)


def test_a_code_elsewhere_is_a_clash(db: psycopg.Connection[Any], tmp_path: Path) -> None:
    seed_chain(db)
    path = write_geojson(tmp_path / "a.geojson", [({"code": f"{GRID}00001", "floors": 3}, box(0))])
    import_file(db, "buildings", path, WGS84)
    moved = write_geojson(tmp_path / "b.geojson", [({"code": f"{GRID}00001", "floors": 3}, box(5))])
    report = import_file(db, "buildings", moved, WGS84)
    assert report.rejected == [
        (1, "code", f"code {GRID}00001 belongs to another building elsewhere")
    ]


def test_a_row_the_database_refuses_is_rejected_and_the_rest_land(
    db: psycopg.Connection[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_chain(db)
    # Let an absurd value past the importer's own checks: the database's CHECK refuses it.
    monkeypatch.setitem(buildings._LIMITS, "floors", (1, 999))
    rows = [({"floors": 3}, box(0)), ({"floors": 500}, box(1)), ({"floors": 4}, box(2))]
    report = import_file(db, "buildings", write_geojson(tmp_path / "b.geojson", rows), WGS84)
    assert report.accepted == 2
    assert [(r, "refused" in why) for r, _, why in report.rejected] == [(2, True)]
    assert _count(db, "building") == 2


def test_mapping_problems_stop_the_import(db: psycopg.Connection[Any], tmp_path: Path) -> None:
    seed_chain(db)
    path = write_geojson(tmp_path / "b.geojson", [({"CS": 3}, box(0))])
    with pytest.raises(DataImportError, match="no field of buildings"):
        import_file(db, "buildings", path, WGS84, mapping={"storeys": "CS"})
    with pytest.raises(DataImportError, match="no column 'LC'"):
        import_file(db, "buildings", path, WGS84, mapping={"floors": "LC"})
    with pytest.raises(DataImportError, match="no floors column"):
        import_file(db, "buildings", path, WGS84)
    assert _count(db, "building") == 0
    assert import_file(db, "buildings", path, WGS84, mapping={"floors": "CS"}).accepted == 1


def _truncated_gpkg(tmp_path: Path) -> bytes:
    path = tmp_path / "whole.gpkg"
    frame = geopandas.GeoDataFrame({"floors": [3] * 50}, geometry=[box(0)] * 50, crs="EPSG:4326")
    frame.to_file(path, driver="GPKG")
    data = path.read_bytes()
    return data[: len(data) // 3]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.geojson", b"", "is empty"),
        ("text.gpkg", b"this is not a geopackage", "not a readable GeoPackage"),
        ("truncated.gpkg", None, "not a readable GeoPackage"),
        ("csv.geojson", b"a,b\n1,2\n", "not a readable GeoJSON"),
        ("nofeatures.geojson", b'{"type": "FeatureCollection", "features": []}', "no rows"),
        ("nogeom.csv", b"a,b\n1,2\n", "no geometry column"),
        ("latin1.csv", "floors,wkt\n3,é\n".encode("utf-16"), "neither UTF-8 nor GBK"),
        ("data.xls", b"x", "unknown format"),
    ],
)
def test_broken_files_are_one_sentence_and_change_nothing(
    db: psycopg.Connection[Any], tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    seed_chain(db)
    import_file(
        db, "buildings", write_geojson(tmp_path / "ok.geojson", [({"floors": 3}, box(0))]), WGS84
    )
    before = db.execute("SELECT code, floors FROM twin.building").fetchall()
    path = tmp_path / name
    path.write_bytes(content if content is not None else _truncated_gpkg(tmp_path))
    with pytest.raises(DataImportError, match=message) as info:
        import_file(db, "buildings", path, WGS84)
    assert "\n" not in str(info.value)
    assert db.execute("SELECT code, floors FROM twin.building").fetchall() == before


def test_concurrent_imports_never_share_a_code(db_conninfo: str, tmp_path: Path) -> None:
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        grids = seed_chain(conn, grids=2)
    try:
        paths = []
        for k in range(2):
            # Each file has buildings in both grids, in opposite orders: no deadlock either way.
            west = [box(i + 5 * k, 0.0001) for i in range(5)]
            east = [shapely.affinity.translate(g, 0.005, 0) for g in west]
            frame = geopandas.GeoDataFrame(
                {"floors": [5] * 10}, geometry=(west + east) if k else (east + west), crs=4326
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
            codes = _codes(conn)
        assert len(codes) == len(set(codes)) == 20
        for grid in grids:
            assert sorted(c for c in codes if c.startswith(grid)) == [
                f"{grid}{n:05d}" for n in range(1, 11)
            ]
    finally:
        with psycopg.connect(db_conninfo, autocommit=True) as conn:
            delete_chain(conn)


def test_command_line_report_and_dry_run(db_url: str, db_conninfo: str, tmp_path: Path) -> None:
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        seed_chain(conn)
    env = {**os.environ, "DATABASE_URL": db_url, "COLUMNS": "200"}

    def twin(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "twin.cli.main", "import", "buildings", *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)

    try:
        path = write_csv(
            tmp_path / "b.csv", "层数,wkt", [f'3,"{box(0).wkt}"', f'999,"{box(1).wkt}"']
        )
        dry = twin(str(path), "--crs", "EPSG:4326", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert "1 accepted" in dry.stdout and "dry run" in dry.stdout
        with psycopg.connect(db_conninfo) as conn:
            assert _count(conn, "building") == 0
        report = tmp_path / "report.csv"
        done = twin(str(path), "--crs", "wgs84", "--report", str(report))
        assert done.returncode == 0, done.stderr
        assert "999" in done.stdout
        lines = report.read_text(encoding="utf-8-sig").splitlines()
        assert lines[0] == "row,field,outcome,reason" and lines[1].startswith("2,floors,rejected,")
        broken = twin(str(tmp_path / "missing.geojson"), "--crs", "wgs84")
        assert broken.returncode == 1
        assert broken.stderr.count("\n") == 1 and "does not exist" in broken.stderr
        bad_crs = twin(str(path), "--crs", "EPSG:99999")
        assert bad_crs.returncode == 1 and "Traceback" not in bad_crs.stderr
    finally:
        with psycopg.connect(db_conninfo, autocommit=True) as conn:
            delete_chain(conn)
