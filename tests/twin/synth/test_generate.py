"""The demo district generator: invariants on a `small` street of Bao'an, determinism, resume."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

import shapely

from twin.codes import is_valid_id_number, is_valid_uscc
from twin.db import migrate as migrations
from twin.db.cluster import LocalCluster
from twin.db.connect import connect
from twin.load.admin import load_admin
from twin.synth.district import to_metric
from twin.synth.run import export_truth, generate

from ...conftest import drop_database, recreate_database

pytestmark = pytest.mark.db
DISTRICT, STREET = "440306", "440306017"


def _fresh(cluster: LocalCluster, name: str) -> str:
    conninfo = recreate_database(cluster, name)
    with contextlib.closing(connect(conninfo, autocommit=True)) as conn:
        migrations.migrate(conn)
    with contextlib.closing(connect(conninfo)) as conn:
        load_admin(conn)
        conn.commit()
    return conninfo


def _generate(conninfo: str, seed: int, truth: Path | None = None, **kw: Any) -> None:
    with contextlib.closing(connect(conninfo)) as conn:
        report = generate(conn, DISTRICT, "small", seed, **kw)
        if truth is not None:
            export_truth(conn, report.run_key, str(truth))


@pytest.fixture(scope="module")
def small(pg_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    conninfo = _fresh(pg_cluster, "twin_synth_a")
    _generate(conninfo, 1, tmp_path_factory.mktemp("t") / "truth.csv")
    yield conninfo
    drop_database(pg_cluster, "twin_synth_a")


def _one(conn: psycopg.Connection[Any], sql: str, *params: Any) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def test_it_made_a_believable_street(small: str) -> None:
    with psycopg.connect(small) as conn:
        counts = {
            t: _one(conn, f"SELECT count(*) FROM twin.{t}")
            for t in ("building", "room", "person", "legal_entity", "event", "compound", "road")
        }
        assert all(n > 0 for n in counts.values()), counts
        floors = conn.execute(
            "SELECT min(floors), max(floors) FROM twin.building WHERE use = 'residential'"
        ).fetchone()
        assert floors is not None and floors[0] >= 4 and floors[1] <= 50
        # Only the chosen street has content.
        assert _one(conn, "SELECT count(DISTINCT left(code, 9)) FROM twin.building") == 1
        assert _one(conn, "SELECT bool_and(is_generated) FROM twin.building")


def test_every_building_lies_inside_its_whole_block_path(small: str) -> None:
    with psycopg.connect(small) as conn:
        outside = _one(
            conn,
            """
            SELECT count(*) FROM twin.building b
            JOIN twin.admin_unit g ON g.code = b.grid_code
            JOIN twin.admin_unit c ON c.code = left(b.code, 12)
            JOIN twin.admin_unit s ON s.code = left(b.code, 9)
            JOIN twin.admin_unit d ON d.code = left(b.code, 6)
            WHERE NOT (ST_CoveredBy(b.footprint, ST_Buffer(g.geom, 1e-7))
                   AND ST_CoveredBy(b.footprint, ST_Buffer(c.geom, 1e-7))
                   AND ST_CoveredBy(b.footprint, ST_Buffer(s.geom, 1e-7))
                   AND ST_CoveredBy(b.footprint, ST_Buffer(d.geom, 1e-7)))""",
        )
        assert outside == 0


def _tiles_parent(conn: psycopg.Connection[Any], parent: str, level: str) -> None:
    rows = conn.execute(
        "SELECT code, ST_AsBinary(geom) FROM twin.admin_unit "
        "WHERE parent_code = %s AND level = %s AND geom IS NOT NULL",
        (parent, level),
    ).fetchall()
    whole = to_metric(
        shapely.from_wkb(
            bytes(
                _one(conn, "SELECT ST_AsBinary(geom) FROM twin.admin_unit WHERE code = %s", parent)
            )
        )
    )
    parts = [to_metric(shapely.from_wkb(bytes(g))) for _, g in rows]
    assert parts, f"{parent} has no {level} polygons"
    assert sum(p.area for p in parts) == pytest.approx(whole.area, rel=1e-6)
    union = shapely.union_all(parts)
    assert union.symmetric_difference(whole).area < whole.area * 1e-6
    tree = shapely.STRtree(parts)
    for i, p in enumerate(parts):
        for j in tree.query(p):
            if j > i:
                assert p.intersection(parts[j]).area < 1.0, (rows[i][0], rows[int(j)][0])


def test_sibling_polygons_tile_their_parent(small: str) -> None:
    with psycopg.connect(small) as conn:
        _tiles_parent(conn, DISTRICT, "street")
        _tiles_parent(conn, STREET, "community")
        for (community,) in conn.execute(
            "SELECT DISTINCT left(code, 12) FROM twin.admin_unit WHERE level = 'grid'"
        ).fetchall():
            _tiles_parent(conn, community, "grid")


def test_codes_are_unique_and_consistent(small: str) -> None:
    with psycopg.connect(small) as conn:
        assert _one(conn, "SELECT count(*) = count(DISTINCT code) FROM twin.room")
        assert (
            _one(
                conn,
                "SELECT count(*) FROM twin.room r JOIN twin.building b "
                "ON b.code = r.building_code WHERE left(r.code, 19) <> b.code",
            )
            == 0
        )
        assert (
            _one(
                conn, "SELECT count(*) FROM twin.address WHERE level = 'room' AND code <> room_code"
            )
            == 0
        )
        bad = _one(
            conn,
            "SELECT count(*) FROM twin.address a JOIN twin.address p "
            "ON p.code = a.parent_code WHERE a.level IN ('building', 'unit', "
            "'room') AND left(a.code, 19) <> coalesce(p.building_code, "
            "left(a.code, 19))",
        )
        assert bad == 0


def test_door_numbers_run_odd_and_even_along_each_side(small: str) -> None:
    with psycopg.connect(small) as conn:
        rows = conn.execute("""
            SELECT r.id, ST_AsBinary(r.geom), ST_AsBinary(a.geom),
                   substring(a.door_no from '[0-9]+')::int
            FROM twin.address a JOIN twin.road r ON r.id = a.road_id
            WHERE a.level = 'door'""").fetchall()
    by_road: dict[int, list[tuple[float, float, int]]] = {}
    lines = {}
    for rid, line_wkb, pt_wkb, number in rows:
        line = lines.setdefault(
            rid, shapely.line_merge(to_metric(shapely.from_wkb(bytes(line_wkb))))
        )
        seg = max(getattr(line, "geoms", [line]), key=lambda g: g.length)
        p = to_metric(shapely.from_wkb(bytes(pt_wkb)))
        (x0, y0), (x1, y1) = seg.coords[0], seg.coords[-1]
        pos = seg.project(p)
        foot = seg.interpolate(pos)
        side = (x1 - x0) * (p.y - foot.y) - (y1 - y0) * (p.x - foot.x)
        by_road.setdefault(rid, []).append((pos, side, number))
    assert by_road
    for doors in by_road.values():
        for parity in (0, 1):
            same = sorted(d for d in doors if d[2] % 2 == parity)
            sides = {d[1] > 0 for d in same if abs(d[1]) > 1.0}
            assert len(sides) <= 1, "odd and even doors must keep to one side each"
            numbers = [d[2] for d in same]
            assert numbers == sorted(numbers), "numbers must grow along the road"


def test_identifiers_carry_valid_check_characters(small: str) -> None:
    with psycopg.connect(small) as conn:
        ids = [r[0] for r in conn.execute("SELECT id_number FROM twin.person")]
        usccs = [r[0] for r in conn.execute("SELECT uscc FROM twin.legal_entity")]
    assert ids and all(is_valid_id_number(i) for i in ids)
    assert usccs and all(is_valid_uscc(u) for u in usccs)
    assert len(set(usccs)) == len(usccs)


def _fingerprint(conninfo: str) -> str:
    queries = [
        "SELECT code, name, ST_AsText(geom) FROM twin.admin_unit ORDER BY code",
        "SELECT code, grid_code, name, ST_AsText(footprint), floors, height_m, use "
        "FROM twin.building ORDER BY code",
        "SELECT code, floor_no, unit_no, room_no FROM twin.room ORDER BY code",
        "SELECT code, level, text, ST_AsText(geom) FROM twin.address ORDER BY code",
        "SELECT source_id, name, id_number, phone, residence_address FROM twin.person "
        "ORDER BY source_id",
        "SELECT record_kind, source_id, messy_address, address_code FROM twin.synth_truth "
        "ORDER BY record_kind, source_id",
    ]
    digest = hashlib.sha256()
    with psycopg.connect(conninfo) as conn:
        for q in queries:
            for row in conn.execute(q):
                digest.update(repr(row).encode())
    return digest.hexdigest()


class Interrupted(Exception):
    pass


def test_same_seed_same_data_and_an_interrupted_run_resumes(
    small: str, pg_cluster: LocalCluster, tmp_path: Path
) -> None:
    other = _fresh(pg_cluster, "twin_synth_b")
    try:

        def stop_after_three(name: str, done: int, total: int) -> None:
            if done == 3:
                raise Interrupted

        with pytest.raises(Interrupted):
            _generate(other, 1, progress=stop_after_three)
        _generate(other, 1, tmp_path / "truth.csv")
        assert _fingerprint(other) == _fingerprint(small)
        with psycopg.connect(small) as conn:
            key = "440306:440306017:small:1"
            export_truth(conn, key, str(tmp_path / "truth-a.csv"))
        assert (tmp_path / "truth.csv").read_bytes() == (tmp_path / "truth-a.csv").read_bytes()
        _generate(other, 2, replace=True)
        assert _fingerprint(other) != _fingerprint(small)
    finally:
        drop_database(pg_cluster, "twin_synth_b")


def test_given_street_outlines_are_fitted_to_tile_the_district() -> None:
    from shapely import box

    from twin.synth.district import Unit, fit_given_outlines

    district = box(0, 0, 100, 100)
    streets = [Unit("440306017", "a", "440306"), Unit("440306018", "b", "440306")]
    # Overlapping, sticking out of the district, and leaving a gap at the top.
    given = {"440306017": box(-10, 0, 60, 90), "440306018": box(50, 0, 120, 80)}
    fitted = fit_given_outlines(district, given, streets)
    assert sum(g.area for g in fitted.values()) == pytest.approx(district.area)
    assert fitted["440306017"].intersection(fitted["440306018"]).area == pytest.approx(0)
    with pytest.raises(ValueError, match="no outline for 440306018"):
        fit_given_outlines(district, {"440306017": district}, streets)
