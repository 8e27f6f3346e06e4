"""Grid delineation on a generated street with its people placed: limits hold, grids tile
their community without cutting a building, and a second run keeps every code."""

from __future__ import annotations

import contextlib
import doctest
import os
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

import shapely

from blocks.errors import PlacementInputError
from blocks.grids.delineate import Buildings, Limits, partition_faces, road_faces
from blocks.grids.service import delineate_community, sql_text
from blocks.placement.service import place_rows
from tests.blocks.placement_data import STREET, truth
from tests.utils.auth import key_headers
from tests.utils.cli import twin
from twin.db.connect import connect

COMMUNITY = f"{STREET}001"


@pytest.fixture(scope="module")
def peopled(street: tuple[str, str]) -> tuple[str, str]:
    """The street with every generated person placed by room code, and some points between
    buildings placed (down to a grid only)."""
    people = truth(street[0], "person", 100_000)
    rows = [[p["source_id"], p["room_code"]] for p in people]
    with contextlib.closing(connect(street[0])) as conn:
        place_rows(conn, list, ["id", "code"], rows, kind="person", source="census", actor="t")
        points = conn.execute(
            """SELECT ST_X(d.geom), ST_Y(d.geom) FROM twin.admin_unit u,
                      ST_Dump(ST_GeneratePoints(u.geom, 20, 11)) d
               WHERE u.parent_code = %s AND u.level = 'community'
                 AND NOT EXISTS (SELECT 1 FROM twin.building b
                                 WHERE ST_Intersects(b.footprint, d.geom))""",
            (STREET,),
        ).fetchall()
        events = [[f"pt-{i}", x, y, "占道经营", "2026-05-01 10:00"]
                  for i, (x, y) in enumerate(points)]  # fmt: skip
        done = place_rows(conn, list, ["id", "lon", "lat", "event_type", "occurred_at"], events,
                          kind="event", source="walk", actor="t")  # fmt: skip
        assert all(d.status != "invalid" for d in done), done[0]
        conn.commit()
    return street


def test_grids_follow_the_roads_where_road_blocks_fit() -> None:
    square = shapely.box(0, 0, 1000, 1000)
    roads = shapely.MultiLineString(
        [[(500, -50), (500, 1050)], [(-50, 480), (1050, 480)], [(200, 700), (200, 1000)]]
    )  # a dead end: cuts nothing
    faces = road_faces(square, roads)
    assert sorted(round(f.area) for f in faces) == [240_000, 240_000, 260_000, 260_000]
    rng = np.random.default_rng(7)
    xy = rng.uniform(20, 980, size=(200, 2))
    xy = xy[np.abs(xy[:, 0] - 500) > 20]
    xy = xy[np.abs(xy[:, 1] - 480) > 20]
    b = Buildings(xy, np.full(len(xy), 9.0), np.full(len(xy), 18.0))
    limits = Limits(max_units=int(9 * len(xy) / 3), max_residents=10_000)  # 3 grids needed
    groups = partition_faces(b, limits, faces)
    assert len(groups) in (3, 4)
    pieces = [p for _, p in groups]
    assert sum(p.area for p in pieces) == pytest.approx(1e6)
    inner = shapely.difference(shapely.union_all([p.boundary for p in pieces]),
                               square.boundary.buffer(1e-6))  # fmt: skip
    assert inner.length > 900 and inner.difference(roads.buffer(1e-6)).length < 1e-6
    for members, piece in groups:
        assert limits.fits(b.units[members].sum(), b.residents[members].sum())
        assert bool(np.all(shapely.contains_xy(piece, b.xy[members, 0], b.xy[members, 1])))


def test_the_examples_in_the_docstrings_hold() -> None:
    from blocks.grids import delineate
    from blocks.placement import walking

    for module in (delineate, walking):
        assert doctest.testmod(module).failed == 0


def _plan(conninfo: str) -> list[dict[str, Any]]:
    with psycopg.connect(conninfo) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "SELECT grid_code, building_codes, housing_units, residents, status, parts, "
            "compactness, ST_AsText(geom) AS wkt FROM twin.grid_plan "
            "WHERE community_code = %s ORDER BY grid_code", (COMMUNITY,)
        ).fetchall()  # fmt: skip


@pytest.mark.db
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


@pytest.mark.db
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


def _communities(conninfo: str) -> list[str]:
    with psycopg.connect(conninfo) as conn:
        return [r[0] for r in conn.execute(
            "SELECT code FROM twin.admin_unit WHERE level = 'community' AND parent_code = %s "
            "ORDER BY code", (STREET,)).fetchall()]  # fmt: skip


def _in_force_checks(conn: psycopg.Connection[Any], community: str) -> dict[str, Any]:
    """Invariants of the grids in force of one community, counted in SQL."""
    row = conn.execute(
        """WITH g AS (SELECT code, geom FROM twin.admin_unit
                      WHERE parent_code = %(c)s AND level = 'grid'),
                b AS (SELECT * FROM twin.building WHERE code LIKE %(c)s || '%%')
           SELECT
             (SELECT count(*) FROM b WHERE b.grid_code NOT IN (SELECT code FROM g)),
             (SELECT count(*) FROM b JOIN g ON g.code = b.grid_code
              WHERE NOT ST_Covers(ST_Buffer(g.geom, 1e-7), b.footprint)),
             (SELECT count(*) FROM b JOIN g ON g.code <> b.grid_code
              WHERE ST_Area(ST_Intersection(g.geom, b.footprint)) > 1e-12),
             (SELECT abs(sum(ST_Area(g.geom)) - ST_Area(u.geom)) / ST_Area(u.geom)
              FROM g, twin.admin_unit u WHERE u.code = %(c)s GROUP BY u.geom),
             (SELECT abs(ST_Area(ST_Union(g.geom)) - ST_Area(u.geom)) / ST_Area(u.geom)
              FROM g, twin.admin_unit u WHERE u.code = %(c)s GROUP BY u.geom),
             (SELECT count(*) FROM twin.placement p JOIN twin.building x ON x.code = p.building_code
              WHERE p.community_code = %(c)s AND p.grid_code <> x.grid_code),
             (SELECT count(*) FROM twin.placement p
              JOIN twin.building x ON x.code = p.building_code
              JOIN twin.admin_unit gg ON gg.code = p.grid_code
              WHERE p.community_code = %(c)s
                AND NOT ST_Covers(ST_Buffer(gg.geom, 1e-7), x.footprint)),
             (SELECT count(*) FROM twin.address a JOIN twin.building x ON x.code = a.building_code
              WHERE a.community_code = %(c)s AND a.grid_code <> x.grid_code),
             (SELECT count(*) FROM b WHERE left(b.code, 14) <> b.grid_code),
             (SELECT count(*) FROM twin.placement p WHERE p.community_code = %(c)s
                AND p.building_code IS NULL AND p.grid_code IS NOT NULL),
             (SELECT count(*) FROM twin.placement p JOIN twin.admin_unit gg
                ON gg.code = p.grid_code
              WHERE p.community_code = %(c)s AND p.building_code IS NULL
                AND NOT ST_Covers(ST_Buffer(gg.geom, 1e-7), ST_Point((p.input ->> 'lon')::float8,
                                                          (p.input ->> 'lat')::float8, 4326)))""",
        {"c": community},
    ).fetchone()
    assert row is not None
    keys = ["orphans", "not_covered", "cut", "overlap", "gap", "placement_off",
            "placement_outside", "address_off", "moved_codes", "by_point",
            "point_outside"]  # fmt: skip
    return dict(zip(keys, row, strict=True))


def _loads(conn: psycopg.Connection[Any], community: str) -> list[tuple[str, int, int, int]]:
    """Each grid in force: buildings, housing units and residents, recounted."""
    return conn.execute(
        """SELECT b.grid_code, count(*),
                  sum(CASE WHEN b.use = 'residential' THEN (SELECT count(*) FROM twin.room r
                      WHERE r.building_code = b.code) ELSE 0 END)::int,
                  sum(coalesce(k.people, 0))::int
           FROM twin.building b LEFT JOIN twin.block_counts k ON k.code = b.code
           WHERE b.code LIKE %s || '%%' GROUP BY b.grid_code ORDER BY 1""",
        (community,),
    ).fetchall()


@pytest.mark.db
def test_apply_puts_the_plan_in_force_keeps_building_codes_and_moves_the_counts(
    peopled: tuple[str, str],
) -> None:
    from blocks.grids.apply import apply_plan
    from blocks.placement.aggregates import recount_differences

    limits = Limits()
    communities = _communities(peopled[0])
    with contextlib.closing(connect(peopled[0])) as conn:
        before = dict(conn.execute("SELECT code, grid_code FROM twin.building").fetchall())
        applied, refused = {}, 0
        for community in communities:
            report = delineate_community(conn, community, limits, "test")
            assert report is not None, community
            print(report.line())  # noqa: T201 - the figures of the report
            assert report.grids == 1 or report.along_roads == 1.0  # road blocks fit here
            dropped = conn.execute(sql_text("retired_grids.sql"), {"community": community})
            retired = [r[0] for r in dropped.fetchall()]
            if retired and not refused:  # a key scoped to a grid the plan drops stops it
                conn.commit()
                key_headers(peopled[0], "grid_worker", retired[0], "w-retired")
                with pytest.raises(PlacementInputError, match="re-scope them first"):
                    apply_plan(conn, community, "test")
                conn.rollback()
                conn.execute("UPDATE twin.api_key SET revoked_at = now() WHERE name = 'w-retired'")
                refused += 1
            applied[community] = apply_plan(conn, community, "test")
            conn.commit()
        assert refused == 1
        after = dict(conn.execute("SELECT code, grid_code FROM twin.building").fetchall())
        assert after.keys() == before.keys()  # building codes are identities: none changed
        moved = [c for c in after if after[c] != before[c]]
        assert moved and sum(a.buildings_moved for a in applied.values()) == len(moved)
        for community in communities:
            checks = _in_force_checks(conn, community)
            assert checks["overlap"] < 1e-6 and checks["gap"] < 1e-6, (community, checks)
            assert {k: v for k, v in checks.items() if k not in ("overlap", "gap")} == {
                "orphans": 0, "not_covered": 0, "cut": 0, "placement_off": 0,
                "placement_outside": 0, "address_off": 0, "point_outside": 0,
                "moved_codes": checks["moved_codes"], "by_point": checks["by_point"]}  # fmt: skip
            for grid, buildings, units, residents in _loads(conn, community):
                assert buildings == 1 or limits.fits(units, residents), (grid, units, residents)
        assert sum(_in_force_checks(conn, c)["moved_codes"] for c in communities) > 0
        assert sum(_in_force_checks(conn, c)["by_point"] for c in communities) > 20
        assert recount_differences(conn) == []
        audit = conn.execute(
            "SELECT count(*) FILTER (WHERE action = 'apply_grid_plan'), "
            "count(*) FILTER (WHERE table_name = 'building' AND action = 'update' "
            "AND before ->> 'grid_code' <> after ->> 'grid_code' AND record_key = ANY(%s)) "
            "FROM twin.audit_log", (moved,)).fetchone()  # fmt: skip
        assert audit is not None and audit[0] == len(communities) and audit[1] == len(moved)
        # A room of a moved building, placed by its code, lands in the building's grid now.
        code = moved[0]
        room = conn.execute("SELECT code FROM twin.room WHERE building_code = %s LIMIT 1",
                            (code,)).fetchone()  # fmt: skip
        if room is not None:
            place_rows(conn, list, ["id", "code"], [["moved-1", room[0]]], kind="person",
                       source="grid-test", actor="t")  # fmt: skip
            placed = conn.execute(
                "SELECT p.grid_code FROM twin.placement p JOIN twin.person x ON x.id = p.record_id "
                "WHERE p.record_kind = 'person' AND p.room_code = %s ORDER BY p.id DESC LIMIT 1",
                (room[0],)).fetchone()  # fmt: skip
            conn.rollback()
            assert placed == (after[code],) != (code[:14],)


@pytest.mark.db
def test_a_moved_building_imported_again_with_its_code_keeps_code_and_grid(
    peopled: tuple[str, str], tmp_path: Path
) -> None:
    from tests.twin.load.test_importer import write_geojson
    from twin.crs import WGS84
    from twin.load.importer import import_file

    with contextlib.closing(connect(peopled[0])) as conn:
        moved = conn.execute(
            "SELECT code, grid_code, ST_AsBinary(footprint) FROM twin.building "
            "WHERE left(code, 14) <> grid_code ORDER BY code LIMIT 1").fetchone()  # fmt: skip
        assert moved is not None
        code, grid, wkb = moved
        path = write_geojson(tmp_path / "b.geojson",
                             [({"code": code, "floors": 7}, shapely.from_wkb(wkb))])  # fmt: skip
        report = import_file(conn, "buildings", path, WGS84)
        conn.commit()
        assert report.rejected == [] and report.updated == 1, report
        assert conn.execute("SELECT grid_code, floors FROM twin.building WHERE code = %s",
                            (code,)).fetchone() == (grid, 7)  # fmt: skip


@pytest.mark.db
def test_a_second_delineation_after_apply_keeps_every_code_and_moves_nothing(
    peopled: tuple[str, str],
) -> None:
    from blocks.grids.apply import apply_plan

    communities = _communities(peopled[0])
    with contextlib.closing(connect(peopled[0])) as conn:
        for community in communities:
            apply_plan(conn, community, "test") if not conn.execute(
                "SELECT 1 FROM twin.grid_plan WHERE community_code = %s AND applied_at IS NOT NULL",
                (community,)).fetchone() else None  # fmt: skip
        conn.commit()
        grids = conn.execute("SELECT code, ST_AsBinary(geom) FROM twin.admin_unit "
                             "WHERE level = 'grid' ORDER BY code").fetchall()  # fmt: skip
        for community in communities:
            report = delineate_community(conn, community, Limits(), "test")
            assert report is not None and report.unchanged == report.grids, report
            again = apply_plan(conn, community, "test")
            assert (again.grids_written, again.buildings_moved, again.placements_moved,
                    again.retired) == (0, 0, 0, [])  # fmt: skip
        conn.commit()
        assert grids == conn.execute("SELECT code, ST_AsBinary(geom) FROM twin.admin_unit "
                                     "WHERE level = 'grid' ORDER BY code").fetchall()  # fmt: skip
    env = {**os.environ, "DATABASE_URL": peopled[1]}
    done = twin(env, "grids", "delineate", "--community", communities[0], "--max-units", "150",
                "--apply")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{communities[0]}: applied " in done.stdout
    again = twin(env, "grids", "apply", "--community", communities[0])
    assert again.returncode == 0 and "(0 written, 0 retired); moved 0 buildings" in again.stdout
    none = twin(env, "grids", "apply", "--community", f"{STREET}999")
    assert none.returncode == 1 and "has no grid plan" in none.stderr
