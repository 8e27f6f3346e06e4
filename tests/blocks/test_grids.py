"""Grid delineation on a generated street with its people placed: limits hold, grids tile
their community without cutting a building, and a second run keeps every code."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import psycopg
import pytest

from blocks.grids.delineate import Limits
from blocks.grids.service import delineate_community
from blocks.placement.service import place_rows
from tests.blocks.placement_data import STREET, truth
from tests.utils.cli import twin
from twin.db.connect import connect

pytestmark = pytest.mark.db
COMMUNITY = f"{STREET}001"


@pytest.fixture(scope="module")
def peopled(street: tuple[str, str]) -> tuple[str, str]:
    """The street with every generated person placed by room code."""
    people = truth(street[0], "person", 100_000)
    rows = [[p["source_id"], p["room_code"]] for p in people]
    with contextlib.closing(connect(street[0])) as conn:
        place_rows(conn, list, ["id", "code"], rows, kind="person", source="census", actor="t")
        conn.commit()
    return street


def _plan(conninfo: str) -> list[dict[str, Any]]:
    with psycopg.connect(conninfo) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "SELECT grid_code, building_codes, housing_units, residents, status, parts, "
            "compactness, ST_AsText(geom) AS wkt FROM twin.grid_plan "
            "WHERE community_code = %s ORDER BY grid_code", (COMMUNITY,)
        ).fetchall()  # fmt: skip


def test_grids_keep_the_limits_tile_the_community_and_cut_no_building(
    peopled: tuple[str, str],
) -> None:
    limits = Limits(max_units=120, max_residents=150)
    with contextlib.closing(connect(peopled[0])) as conn:
        report = delineate_community(conn, COMMUNITY, limits, "test")
        conn.commit()
        assert report is not None
        (buildings, units, residents) = conn.execute(
            "SELECT count(*), sum(CASE WHEN b.use = 'residential' THEN (SELECT count(*) "
            "FROM twin.room r WHERE r.building_code = b.code) ELSE 0 END), "
            "(SELECT people FROM twin.block_counts WHERE code = %s) FROM twin.building b "
            "WHERE b.grid_code LIKE %s", (COMMUNITY, COMMUNITY + "%")
        ).fetchone()  # fmt: skip
        geometry = conn.execute(
            """SELECT abs(sum(ST_Area(p.geom)) - ST_Area(u.geom)) / ST_Area(u.geom),
                      abs(ST_Area(ST_Union(p.geom)) - ST_Area(u.geom)) / ST_Area(u.geom),
                      (SELECT count(*) FROM twin.building b JOIN twin.grid_plan g
                         ON g.community_code = %(c)s AND b.code = ANY(g.building_codes)
                       WHERE NOT ST_Covers(ST_Buffer(g.geom, 1e-7), b.footprint)),
                      (SELECT count(*) FROM twin.building b JOIN twin.grid_plan g
                         ON g.community_code = %(c)s AND NOT b.code = ANY(g.building_codes)
                       WHERE ST_Area(ST_Intersection(g.geom, b.footprint)) > 1e-12)
               FROM twin.grid_plan p JOIN twin.admin_unit u ON u.code = p.community_code
               WHERE p.community_code = %(c)s GROUP BY u.geom""",
            {"c": COMMUNITY},
        ).fetchone()  # fmt: skip
    plan = _plan(peopled[0])
    members = [b for g in plan for b in g["building_codes"]]
    assert len(members) == len(set(members)) == buildings
    assert sum(g["housing_units"] for g in plan) == units and residents > 0
    assert sum(g["residents"] for g in plan) == residents
    for g in plan:
        assert len(g["building_codes"]) == 1 or limits.fits(g["housing_units"], g["residents"])
    assert report.grids == len(plan) >= report.fewest_possible > 1
    assert report.grids <= 2 * report.fewest_possible
    assert geometry is not None
    overlap, gap, cut_own, cut_other = geometry
    assert overlap < 1e-6 and gap < 1e-6  # a tiling: no overlap, no gap
    assert cut_own == 0 and cut_other == 0  # every building whole, in its own grid only
    assert report.mean_compactness > 0.4 and all(g["parts"] == 1 for g in plan)


def test_a_second_run_keeps_every_code_and_the_command_line(peopled: tuple[str, str]) -> None:
    limits = Limits(max_units=120, max_residents=150)
    with contextlib.closing(connect(peopled[0])) as conn:
        delineate_community(conn, COMMUNITY, limits, "test")
        conn.commit()
        first = _plan(peopled[0])
        again = delineate_community(conn, COMMUNITY, limits, "test")
        conn.commit()
    second = _plan(peopled[0])
    assert again is not None and again.unchanged == len(second) and again.new == 0
    assert [(g["grid_code"], g["building_codes"], g["wkt"]) for g in first] == [
        (g["grid_code"], g["building_codes"], g["wkt"]) for g in second
    ]
    env = {**os.environ, "DATABASE_URL": peopled[1]}
    done = twin(env, "grids", "delineate", "--community", f"{STREET}002", "--max-units", "200")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{STREET}002: ") and "grids (fewest possible" in done.stdout
    both = twin(env, "grids", "delineate")
    assert both.returncode == 1 and "--community CODE, or --all" in both.stderr
