"""The real reference data: counts, Dapeng as data, 498 units, idempotent reloads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest

import shapely.affinity
from shapely.geometry import mapping, shape

from twin.load.admin import DEFAULT_DATA_DIR, load_admin, short_community_name
from twin.load.errors import ReferenceDataError

pytestmark = pytest.mark.db


def _counts(db: psycopg.Connection[Any]) -> dict[str, tuple[int, int]]:
    rows = db.execute(
        "SELECT level, count(*), count(geom) FROM twin.admin_unit "
        "WHERE source LIKE 'national statistical%%' GROUP BY level"
    ).fetchall()
    return {level: (n, with_geom) for level, n, with_geom in rows}


def test_load_admin_counts_and_is_idempotent(db: psycopg.Connection[Any]) -> None:
    first = load_admin(db)
    assert (first.districts, first.streets, first.communities) == (9, 79, 788)
    assert first.orphans == []
    again = load_admin(db)
    assert (again.districts, again.streets, again.communities) == (9, 79, 788)
    assert _counts(db) == {"district": (9, 9), "street": (79, 0), "community": (788, 0)}


def test_codes_are_consistent_with_their_parents(db: psycopg.Connection[Any]) -> None:
    load_admin(db)
    bad = db.execute(
        "SELECT c.code FROM twin.admin_unit c JOIN twin.admin_unit p ON p.code = c.parent_code "
        "WHERE left(c.code, length(p.code)) <> p.code"
    ).fetchall()
    assert bad == []
    assert db.execute(
        "SELECT count(*) FROM twin.admin_unit WHERE code LIKE '%%498' AND level = 'community'"
    ).fetchone() == (5,)


def test_dapeng_is_a_functional_area_of_longgang(db: psycopg.Connection[Any]) -> None:
    load_admin(db)
    streets = db.execute(
        "SELECT code, name FROM twin.admin_unit "
        "WHERE functional_area_code = '440307-DP' ORDER BY code"
    ).fetchall()
    assert streets == [
        ("440307009", "葵涌街道"),
        ("440307010", "大鹏街道"),
        ("440307011", "南澳街道"),
    ]
    area = db.execute("SELECT code, name, district_code FROM twin.functional_area").fetchall()
    assert area == [("440307-DP", "大鹏新区", "440307")]
    # Longgang's geometry holds Dapeng's outline.
    covered = db.execute(
        "SELECT ST_Covers(ST_Buffer(d.geom, 1e-9), f.geom), ST_Area(f.geom::geography) / 1e6 "
        "FROM twin.admin_unit d JOIN twin.functional_area f ON f.district_code = d.code "
        "WHERE d.code = '440307'"
    ).fetchone()
    assert covered is not None and covered[0] is True and 250 < covered[1] < 450


def test_district_areas_are_believable(db: psycopg.Connection[Any]) -> None:
    load_admin(db)
    row = db.execute(
        "SELECT ST_Area(geom::geography) / 1e6 FROM twin.admin_unit WHERE code = '440306'"
    ).fetchone()
    assert row is not None and 350 < row[0] < 450  # Bao'an: about 397 km²


def test_reload_keeps_geometries_added_later(db: psycopg.Connection[Any]) -> None:
    load_admin(db)
    db.execute(
        "UPDATE twin.admin_unit SET geom = ST_Multi(ST_Buffer(ST_Point(113.88, 22.56, "
        "4326), 0.01)) WHERE code = '440306017'"
    )
    load_admin(db)
    assert db.execute(
        "SELECT geom IS NOT NULL FROM twin.admin_unit WHERE code = '440306017'"
    ).fetchone() == (True,)


@pytest.mark.parametrize(
    ("full", "short"),
    [
        ("大塘龙社区居民委员会", "大塘龙社区"),
        ("沙埔头社区居委会", "沙埔头社区"),
        ("黄麻布社区居委", "黄麻布社区"),
        ("前海合作区虚拟社区", "前海合作区虚拟社区"),
    ],
)
def test_short_community_names(full: str, short: str) -> None:
    assert short_community_name(full) == short


def _copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "admin"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


def test_units_outside_the_districts_are_reported(
    db: psycopg.Connection[Any], tmp_path: Path
) -> None:
    data = _copy_data(tmp_path)
    with (data / "sz_streets.csv").open("a", encoding="utf-8") as fh:
        fh.write("440399001,无主街道,440399,44,4403\n")
    with (data / "sz_villages.csv").open("a", encoding="utf-8") as fh:
        fh.write("440399001001,无主社区居委会,440399001,44,4403,440399\n")
    report = load_admin(db, data)
    assert (report.streets, report.communities) == (79, 788)
    assert [o.split(":")[0] for o in report.orphans] == [
        "street 440399001 无主街道",
        "community 440399001001 无主社区居委会",
    ]
    assert any(line.startswith("not loaded: street 440399001") for line in report.lines())
    assert db.execute(
        "SELECT count(*) FROM twin.admin_unit WHERE code LIKE '440399%%'"
    ).fetchone() == (0,)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("440307-DP,大鹏新区,440307,大鹏新区,440307009;440306001", "440306001 is no street"),
        ("440307-DP,大鹏新区,440307,不存在,440307009", "no outline named 不存在"),
        ("440399-DP,大鹏新区,440399,大鹏新区,440307009", "district 440399 is not loaded"),
    ],
)
def test_functional_areas_must_match_the_data(
    db: psycopg.Connection[Any], tmp_path: Path, row: str, message: str
) -> None:
    data = _copy_data(tmp_path)
    (data / "functional_areas.csv").write_text(
        "code,name,district_code,outline_name,street_codes\n" + row + "\n", encoding="utf-8"
    )
    with pytest.raises(ReferenceDataError, match=message):
        load_admin(db, data)


def test_streets_dropped_from_a_functional_area_lose_the_link(
    db: psycopg.Connection[Any], tmp_path: Path
) -> None:
    load_admin(db)
    data = _copy_data(tmp_path)
    (data / "functional_areas.csv").write_text(
        "code,name,district_code,outline_name,street_codes\n"
        "440307-DP,大鹏新区,440307,大鹏新区,440307009;440307010\n",
        encoding="utf-8",
    )
    load_admin(db, data)
    linked = db.execute(
        "SELECT code FROM twin.admin_unit WHERE functional_area_code IS NOT NULL ORDER BY code"
    ).fetchall()
    assert linked == [("440307009",), ("440307010",)]


def test_an_outline_outside_shenzhen_is_refused(
    db: psycopg.Connection[Any], tmp_path: Path
) -> None:
    data = _copy_data(tmp_path)
    path = data / "sz_districts_wgs84.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    moved = shapely.affinity.translate(shape(doc["features"][0]["geometry"]), 2.0, 0)
    doc["features"][0]["geometry"] = mapping(moved)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="罗湖区 lies outside Shenzhen"):
        load_admin(db, data)


def test_names_provenance_and_licences(db: psycopg.Connection[Any]) -> None:
    load_admin(db)
    suffixed = db.execute(
        "SELECT count(*) FROM twin.admin_unit WHERE level = 'community' "
        "AND name ~ '(委员会|居委会|居委)$'"
    ).fetchone()
    assert suffixed == (0,)
    row = db.execute(
        "SELECT name, attrs ->> 'official_name', attrs ->> 'licence' FROM twin.admin_unit "
        "WHERE code = '440303001001'"
    ).fetchone()
    assert row == ("大塘龙社区", "大塘龙社区居民委员会", "WTFPL")
    district = db.execute(
        "SELECT attrs ->> 'licence', attrs ->> 'outline_licence' FROM twin.admin_unit "
        "WHERE code = '440306'"
    ).fetchone()
    assert district == ("WTFPL", "BSD-3-Clause")
    inside = db.execute(
        "SELECT bool_and(ST_Within(ST_Centroid(geom), ST_MakeEnvelope(113.70, 22.38, 114.68, "
        "22.88, 4326)) AND ST_IsValid(geom) AND GeometryType(geom) = 'MULTIPOLYGON') "
        "FROM twin.admin_unit WHERE level = 'district'"
    ).fetchone()
    assert inside == (True,)
