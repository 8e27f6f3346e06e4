"""The core schema: codes checked by the database, valid geometries, indexes, audit log."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

pytestmark = pytest.mark.db

SQUARE = "MULTIPOLYGON(((113.80 22.55, 113.90 22.55, 113.90 22.65, 113.80 22.65, 113.80 22.55)))"
SMALL = "MULTIPOLYGON(((113.85 22.60, 113.851 22.60, 113.851 22.601, 113.85 22.601, 113.85 22.60)))"


def seed_blocks(db: psycopg.Connection[Any]) -> None:
    """District → street → community → grid → building → floor → room, all consistent."""
    rows = [
        ("440306", "district", "宝安区", None),
        ("440306001", "street", "新安街道", "440306"),
        ("440306001001", "community", "海滨社区", "440306001"),
        ("44030600100101", "grid", "海滨社区01网格", "440306001001"),
    ]
    for code, level, name, parent in rows:
        db.execute(
            "INSERT INTO twin.admin_unit (code, level, name, parent_code, geom) "
            "VALUES (%s, %s, %s, %s, ST_GeomFromText(%s, 4326))",
            (code, level, name, parent, SQUARE),
        )
    db.execute(
        "INSERT INTO twin.building (code, grid_code, footprint, floors, height_m) "
        "VALUES ('4403060010010100001', '44030600100101', ST_GeomFromText(%s, 4326), 30, 90)",
        (SMALL,),
    )
    db.execute(
        "INSERT INTO twin.floor (building_code, floor_no) VALUES ('4403060010010100001', 12)"
    )
    db.execute(
        "INSERT INTO twin.room (code, building_code, floor_no, room_no) "
        "VALUES ('4403060010010100001000001', '4403060010010100001', 12, '1203')"
    )


def test_a_consistent_block_chain_is_accepted(db: psycopg.Connection[Any]) -> None:
    seed_blocks(db)
    row = db.execute("SELECT count(*) FROM twin.room").fetchone()
    assert row == (1,)


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        # A street code that does not extend its district.
        (
            "INSERT INTO twin.admin_unit (code, level, name, parent_code) "
            "VALUES ('440307001', 'street', 'x', '440306')",
            "admin_unit_parent",
        ),
        # A grid numbered 00.
        (
            "INSERT INTO twin.admin_unit (code, level, name, parent_code) "
            "VALUES ('44030600100100', 'grid', 'x', '440306001001')",
            "admin_unit_grid_serial",
        ),
        # A community code of the wrong length.
        (
            "INSERT INTO twin.admin_unit (code, level, name, parent_code) "
            "VALUES ('4403060010011', 'community', 'x', '440306001')",
            "admin_unit_code_shape",
        ),
        # A building whose code is not of its grid's community (another grid of the same
        # community is allowed: a re-delineation moves buildings, their codes stay).
        (
            "INSERT INTO twin.building (code, grid_code, footprint, floors, height_m) VALUES "
            "('4403060010020200001', '44030600100101', "
            f"ST_GeomFromText('{SMALL}', 4326), 5, 15)",
            "building_in_community",
        ),
        # A room whose code does not start with its building's code.
        (
            "INSERT INTO twin.room (code, building_code, floor_no, room_no) VALUES "
            "('4403060010010100002000001', '4403060010010100001', 12, '1204')",
            "room_in_building",
        ),
        # A room serial of zeros.
        (
            "INSERT INTO twin.room (code, building_code, floor_no, room_no) VALUES "
            "('4403060010010100001000000', '4403060010010100001', 12, '1205')",
            "room_code_check",
        ),
        # A placement whose path skips the grid.
        (
            "INSERT INTO twin.placement (record_kind, record_id, community_code, building_code, "
            "method, confidence, band, placed_by) VALUES ('person', 1, '440306001001', "
            "'4403060010010100001', 'code', 1, 'accept', 't')",
            "placement_block_path",
        ),
    ],
)
def test_inconsistent_codes_are_refused(
    db: psycopg.Connection[Any], sql: str, constraint: str
) -> None:
    seed_blocks(db)
    with pytest.raises(psycopg.errors.CheckViolation) as info:
        db.execute(sql)
    assert info.value.diag.constraint_name == constraint


def test_invalid_geometry_is_refused(db: psycopg.Connection[Any]) -> None:
    bowtie = "MULTIPOLYGON(((0 0, 1 1, 1 0, 0 1, 0 0)))"
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute(
            "INSERT INTO twin.admin_unit (code, level, name, geom) "
            "VALUES ('440399', 'district', 'x', ST_GeomFromText(%s, 4326))",
            (bowtie,),
        )


#: Geometry columns derived for vector tiles (migration 0010), not data of record: footprints
#: kept in the tiles' Web Mercator (generated from the 4326 footprint, so never out of step)
#: and buildings pre-cut into low-zoom tiles in tile coordinates (no CRS; read by tile, never
#: searched spatially, so no GiST index).
TILE_DERIVED = {("building", "footprint_3857"): 3857, ("building_tile", "geom"): 0}


def test_every_geometry_column_is_4326_with_a_gist_index(db: psycopg.Connection[Any]) -> None:
    cols = db.execute(
        "SELECT f_table_name, f_geometry_column, srid FROM geometry_columns "
        "WHERE f_table_schema = 'twin'"
    ).fetchall()
    assert len(cols) >= 7
    derived = {(t, c): srid for t, c, srid in cols if (t, c) in TILE_DERIVED}
    assert derived == TILE_DERIVED
    for table, column, srid in cols:
        if (table, column) == ("building_tile", "geom"):
            continue
        assert srid == TILE_DERIVED.get((table, column), 4326), (table, column)
        idx = db.execute(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'twin' AND tablename = %s "
            "AND indexdef ILIKE %s",
            (table, f"%USING gist ({column})%"),
        ).fetchone()
        assert idx == (1,), f"{table}.{column} has no GiST index"


def test_changes_are_audited_and_the_audit_log_is_append_only(
    db: psycopg.Connection[Any],
) -> None:
    db.execute("SELECT set_config('twin.actor', 'clerk-7', true)")
    seed_blocks(db)
    db.execute("UPDATE twin.building SET floors = 31 WHERE code = '4403060010010100001'")
    row = db.execute(
        "SELECT actor, before ->> 'floors', after ->> 'floors' FROM twin.audit_log "
        "WHERE table_name = 'building' AND action = 'update' AND actor = 'clerk-7'"
    ).fetchone()
    assert row == ("clerk-7", "30", "31")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute("DELETE FROM twin.audit_log")


def test_bulk_loads_skip_row_audit(db: psycopg.Connection[Any]) -> None:
    count = "SELECT count(*) FROM twin.audit_log"
    before = db.execute(count).fetchone()
    db.execute("SELECT set_config('twin.bulk', 'on', true)")
    seed_blocks(db)
    assert db.execute(count).fetchone() == before
