"""The real reference data: counts, Dapeng as data, 498 units, idempotent reloads."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from twin.load.admin import load_admin, short_community_name

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
    assert [name for _, name in streets] == ["葵涌街道", "大鹏街道", "南澳街道"]
    assert all(code.startswith("440307") for code, _ in streets)
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
