"""The demo district generator on PostGIS: a ``small`` street of Bao'an and its invariants.

The real administrative units are loaded with ``twin load admin``'s loader; the generated
street is checked for well-formed, consistent codes, buildings inside their whole block path,
sibling polygons that tile their parent, unique room codes, door numbers odd and even per
side, valid identifiers, referential integrity (bulk sessions skip foreign-key triggers),
byte-for-byte determinism and resuming.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

import shapely

from twin.address_codes import address_level
from twin.codes import is_valid_id_number, is_valid_uscc
from twin.db.cluster import LocalCluster
from twin.db.connect import connect
from twin.synth.buildings import KINDS
from twin.synth.geometry import to_metric
from twin.synth.noise import NOISE_KINDS
from twin.synth.run import generate
from twin.synth.truth import TRUTH_COLUMNS, export_truth

from ...conftest import TEST_DB, drop_database, fresh_database

pytestmark = pytest.mark.db
DISTRICT, STREET = "440306", "440306017"
KEY = f"{DISTRICT}:{STREET}:small:1"


def run(target: str, seed: int, **kw: Any) -> Any:
    with contextlib.closing(connect(target)) as conn:
        return generate(conn, DISTRICT, "small", seed, **kw)


@pytest.fixture(scope="module")
def small(pg_cluster: LocalCluster) -> Iterator[str]:
    name = f"{TEST_DB}_synth_a"
    conninfo = fresh_database(pg_cluster, name)
    run(conninfo, 1)
    yield conninfo
    drop_database(pg_cluster, name)


def one(conn: psycopg.Connection[Any], sql: str, *params: Any) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def test_it_made_a_believable_street(small: str) -> None:
    with psycopg.connect(small) as conn:
        for table in ("building", "person", "legal_entity", "event", "compound", "road", "address"):
            assert one(conn, f"SELECT count(*) FROM twin.{table} WHERE is_generated") > 0, table
            assert one(conn, f"SELECT count(*) FROM twin.{table} WHERE NOT is_generated") == 0
        assert one(conn, "SELECT count(*) FROM twin.room") > 0
        # Only the chosen street has content; every street and community has an outline.
        assert one(conn, "SELECT count(DISTINCT left(code, 9)) FROM twin.building") == 1
        assert one(conn, "SELECT count(*) FROM twin.admin_unit WHERE left(code, 6) = %s "
                   "AND level <> 'grid' AND geom IS NULL", DISTRICT) == 0  # fmt: skip
        assert one(conn, "SELECT bool_and(attrs @> '{\"geometry_generated\": true}') "
                   "FROM twin.admin_unit WHERE level = 'community' AND left(code, 6) = %s",
                   DISTRICT)  # fmt: skip
        assert one(conn, "SELECT bool_and(source = 'citytwin-synth') FROM twin.building")
        grids = conn.execute("SELECT code, name, parent_code FROM twin.admin_unit "
                             "WHERE level = 'grid'").fetchall()  # fmt: skip
        names = dict(conn.execute("SELECT code, name FROM twin.admin_unit").fetchall())
        assert grids and all(n == f"{names[p]}第{c[-2:]}网格" for c, n, p in grids)
        assert one(conn, "SELECT count(*) FROM twin.audit_log WHERE action = 'generate'") == 1
        assert one(conn, "SELECT count(*) FROM twin.audit_log WHERE table_name = 'person'") == 0


def test_floors_and_heights_are_in_shenzhen_range(small: str) -> None:
    with psycopg.connect(small) as conn:
        rows = conn.execute(
            "SELECT c.kind, b.floors, b.height_m FROM twin.building b "
            "JOIN twin.compound c ON c.id = b.compound_id"
        ).fetchall()
        storeys = conn.execute("SELECT count(*) FROM twin.floor f JOIN twin.building b "
                               "ON b.code = f.building_code").fetchone()  # fmt: skip
        total = one(conn, "SELECT sum(floors + basement_floors) FROM twin.building")
    for kind, floors, height in rows:
        spec = KINDS[kind]
        assert (
            min(spec.floors[0], spec.tall_floors[0])
            <= floors
            <= max(spec.floors[1], spec.tall_floors[1])
        )
        assert 2.9 * floors - 0.1 <= height <= 3.3 * floors + 0.1
    assert storeys == (total,)


def test_every_building_lies_inside_its_whole_block_path(small: str) -> None:
    with psycopg.connect(small) as conn:
        outside = one(
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
        # Compounds lie in their community, door plates in the grid they name.
        assert one(conn, """
            SELECT count(*) FROM twin.compound k JOIN twin.admin_unit c ON c.code = k.community_code
            WHERE NOT ST_CoveredBy(k.geom, ST_Buffer(c.geom, 1e-7))""") == 0  # fmt: skip
        assert (
            one(
                conn,
                """
            SELECT count(*) FROM twin.address a JOIN twin.admin_unit g ON g.code = a.grid_code
            WHERE a.level = 'door' AND NOT ST_CoveredBy(a.geom, ST_Buffer(g.geom, 1e-7))""",
            )
            == 0
        )


def assert_tiles(conn: psycopg.Connection[Any], parent: str, level: str) -> None:
    """Union = parent and no overlaps, by area in the stored coordinates (WGS84, planar).

    Planar areas in the stored coordinates add up exactly; geodesic ones would not, as a
    long straight edge and the same edge split at a vertex follow different geodesics.
    """
    whole, union, total, gap, n = conn.execute("""
        WITH parts AS (SELECT code, geom FROM twin.admin_unit
                       WHERE parent_code = %(p)s AND level = %(l)s AND geom IS NOT NULL),
             whole AS (SELECT geom FROM twin.admin_unit WHERE code = %(p)s)
        SELECT ST_Area(whole.geom), ST_Area(ST_Union(parts.geom)),
               sum(ST_Area(parts.geom)),
               ST_Area(ST_SymDifference(ST_Union(parts.geom), whole.geom)), count(*)
        FROM parts, whole GROUP BY whole.geom""", {"p": parent, "l": level}).fetchone()  # fmt: skip
    assert n > 0, f"{parent} has no {level} polygons"
    assert union == pytest.approx(whole, rel=1e-6)
    assert total == pytest.approx(whole, rel=1e-6)
    assert gap < whole * 1e-6
    overlap = one(conn, """
        WITH parts AS (SELECT code, geom FROM twin.admin_unit
                       WHERE parent_code = %s AND level = %s AND geom IS NOT NULL)
        SELECT coalesce(max(ST_Area(ST_Intersection(a.geom, b.geom))), 0)
        FROM parts a JOIN parts b ON a.code < b.code AND ST_Intersects(a.geom, b.geom)""",
        parent, level)  # fmt: skip
    assert overlap < whole * 1e-9


def test_sibling_polygons_tile_their_parent(small: str) -> None:
    with psycopg.connect(small) as conn:
        assert_tiles(conn, DISTRICT, "street")
        for (street,) in conn.execute("SELECT code FROM twin.admin_unit WHERE level = 'street' "
                                      "AND parent_code = %s", (DISTRICT,)).fetchall():  # fmt: skip
            assert_tiles(conn, street, "community")
        grids = conn.execute("SELECT DISTINCT parent_code FROM twin.admin_unit "
                             "WHERE level = 'grid'").fetchall()  # fmt: skip
        assert len(grids) > 1
        for (community,) in grids:
            assert_tiles(conn, community, "grid")


def test_codes_are_well_formed_unique_and_consistent(small: str) -> None:
    with psycopg.connect(small) as conn:
        assert one(conn, "SELECT count(*) = count(DISTINCT code) FROM twin.room")
        assert one(conn, "SELECT count(*) FROM twin.room r JOIN twin.building b ON b.code = "
                   "r.building_code WHERE left(r.code, 19) <> b.code OR r.room_no::int / 100 "
                   "<> r.floor_no OR r.room_no::int %% 100 = 0") == 0  # fmt: skip
        addresses = conn.execute("SELECT code, level, parent_code, room_code, building_code "
                                 "FROM twin.address").fetchall()  # fmt: skip
    for code, level, _, room, building in addresses:
        assert address_level(code) == level, code
        if level in ("building", "unit", "floor", "room"):
            assert code.startswith(building)
        if level == "room":
            assert room == code


def test_references_hold_although_bulk_writes_skip_foreign_key_checks(small: str) -> None:
    checks = {
        "address parent": "SELECT count(*) FROM twin.address a WHERE a.parent_code IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM twin.address p WHERE p.code = a.parent_code)",
        "address room": "SELECT count(*) FROM twin.address a WHERE room_code IS NOT NULL AND "
        "NOT EXISTS (SELECT 1 FROM twin.room r WHERE r.code = a.room_code)",
        "address building": "SELECT count(*) FROM twin.address a WHERE building_code IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM twin.building b WHERE b.code = a.building_code)",
        "address road": "SELECT count(*) FROM twin.address a WHERE road_id IS NOT NULL AND NOT "
        "EXISTS (SELECT 1 FROM twin.road r WHERE r.id = a.road_id)",
        "address compound": "SELECT count(*) FROM twin.address a WHERE compound_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM twin.compound c WHERE c.id = a.compound_id)",
        "alias": "SELECT count(*) FROM twin.address_alias a WHERE NOT EXISTS "
        "(SELECT 1 FROM twin.address d WHERE d.code = a.address_code)",
        "room floor": "SELECT count(*) FROM twin.room r WHERE NOT EXISTS (SELECT 1 FROM "
        "twin.floor f WHERE f.building_code = r.building_code AND f.floor_no = r.floor_no)",
        "building grid": "SELECT count(*) FROM twin.building b WHERE NOT EXISTS "
        "(SELECT 1 FROM twin.admin_unit g WHERE g.code = b.grid_code)",
        "building compound": "SELECT count(*) FROM twin.building b WHERE NOT EXISTS "
        "(SELECT 1 FROM twin.compound c WHERE c.id = b.compound_id)",
    }
    with psycopg.connect(small) as conn:
        broken = {name: one(conn, sql) for name, sql in checks.items()}
    assert broken == dict.fromkeys(checks, 0)


def test_door_numbers_run_odd_and_even_along_each_side(small: str) -> None:
    with psycopg.connect(small) as conn:
        rows = conn.execute("""
            SELECT r.id, ST_AsBinary(r.geom), ST_AsBinary(a.geom), a.door_no
            FROM twin.address a JOIN twin.road r ON r.id = a.road_id
            WHERE a.level = 'door' ORDER BY a.code""").fetchall()
    by_road: dict[int, list[tuple[float, float, int]]] = {}
    for rid, line_wkb, point_wkb, door in rows:
        line = to_metric(shapely.from_wkb(bytes(line_wkb)))
        first = line.geoms[0]
        (x0, y0), (x1, y1) = first.coords[0], first.coords[-1]
        p = to_metric(shapely.from_wkb(bytes(point_wkb)))
        along = (p.x - x0) * (x1 - x0) + (p.y - y0) * (y1 - y0)
        side = (x1 - x0) * (p.y - y0) - (y1 - y0) * (p.x - x0)
        by_road.setdefault(rid, []).append((along, side, int(door.rstrip("号"))))
    assert len(by_road) > 5
    for doors in by_road.values():
        numbers = [n for _, _, n in doors]
        assert len(set(numbers)) == len(numbers), "a door number is used once per road"
        assert all((n % 2 == 1) == (side > 0) for _, side, n in doors), "odd left, even right"
        for parity in (0, 1):
            same = sorted((a, n) for a, _, n in doors if n % 2 == parity)
            assert [n for _, n in same] == sorted(n for _, n in same), "numbers grow along"


def test_people_companies_and_events_are_believable(small: str) -> None:
    with psycopg.connect(small) as conn:
        people = conn.execute(
            "SELECT id_number, birth_date, gender, phone FROM twin.person"
        ).fetchall()
        usccs = [r[0] for r in conn.execute("SELECT uscc FROM twin.legal_entity")]
        events = conn.execute("SELECT DISTINCT event_type FROM twin.event").fetchall()
        kinds = conn.execute("SELECT DISTINCT residence_kind FROM twin.person").fetchall()
    assert all(is_valid_id_number(i) for i, _, _, _ in people)
    assert all(i[6:14] == b.strftime("%Y%m%d") for i, b, _, _ in people)
    assert all((int(i[16]) % 2 == 1) == (g == "M") for i, _, g, _ in people)
    assert len({i for i, _, _, _ in people}) == len(people), "ID numbers are unique"
    assert usccs and all(is_valid_uscc(u) for u in usccs) and len(set(usccs)) == len(usccs)
    assert len(events) > 5 and sorted(kinds) == [("household",), ("rental",)]


def test_truth_is_complete_and_true(small: str, tmp_path: Path) -> None:
    with psycopg.connect(small) as conn:
        records = one(conn, "SELECT (SELECT count(*) FROM twin.person) + (SELECT count(*) FROM "
                      "twin.legal_entity) + (SELECT count(*) FROM twin.event)")  # fmt: skip
        wrong = one(conn, """
            SELECT count(*) FROM twin.synth_truth t
            LEFT JOIN twin.address a ON a.code = t.address_code
            WHERE a.code IS NULL OR a.level <> t.level
               OR left(t.address_code, 19) <> t.building_code
               OR t.grid_code <> left(t.building_code, 14)""")  # fmt: skip
        messy = one(conn, """
            SELECT count(*) FROM twin.synth_truth t JOIN twin.person p ON p.source_id = t.source_id
            WHERE p.residence_address <> t.messy_address""")  # fmt: skip
        n = export_truth(conn, [KEY], tmp_path / "truth.jsonl")
    assert records == n > 0 and wrong == 0 and messy == 0
    import json

    lines = [json.loads(x) for x in (tmp_path / "truth.jsonl").read_text("utf-8").splitlines()]
    assert list(lines[0]) == list(TRUTH_COLUMNS)
    kinds = {k for line in lines for k in line["noise"].split("+")}
    assert kinds == {*NOISE_KINDS, "exact"}


def fingerprint(conninfo: str) -> str:
    queries = [
        "SELECT code, name, attrs, ST_AsEWKB(geom) FROM twin.admin_unit ORDER BY code",
        "SELECT id, name, road_class, ST_AsEWKB(geom) FROM twin.road ORDER BY id",
        "SELECT id, name, kind, ST_AsEWKB(geom) FROM twin.compound ORDER BY id",
        "SELECT code, grid_code, name, compound_id, ST_AsEWKB(footprint), floors, height_m, "
        "use, built_year FROM twin.building ORDER BY code",
        "SELECT * FROM twin.floor ORDER BY building_code, floor_no",
        "SELECT * FROM twin.room ORDER BY code",
        "SELECT code, level, text, parent_code, grid_code, road_id, door_no, compound_id, "
        "elements, ST_AsEWKB(geom) FROM twin.address ORDER BY code",
        "SELECT id, address_code, text, kind FROM twin.address_alias ORDER BY id",
        "SELECT id, source_id, name, id_number, phone, birth_date, registered_address, "
        "residence_address FROM twin.person ORDER BY id",
        "SELECT id, source_id, uscc, name, registered_address, business_address "
        "FROM twin.legal_entity ORDER BY id",
        "SELECT id, source_id, event_type, occurred_at, address_text, ST_AsEWKB(geom) "
        "FROM twin.event ORDER BY id",
        "SELECT record_kind, source_id, messy_address, noise, address_code, room_code "
        "FROM twin.synth_truth ORDER BY record_kind, source_id",
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
    name = f"{TEST_DB}_synth_b"
    other = fresh_database(pg_cluster, name)
    try:

        def stop_after_three(_: str, done: int, total: int) -> None:
            if done == 3:
                raise Interrupted

        with pytest.raises(Interrupted):
            run(other, 1, progress=stop_after_three)
        with psycopg.connect(other) as conn:
            assert one(conn, "SELECT count(*) FROM twin.synth_unit_done") == 3
            assert one(conn, "SELECT status FROM twin.synth_run") == "content"
        # The rest in two worker processes: the same data as one process wrote at once.
        report = run(other, 1, workers=2, conninfo=other)
        assert report.communities_skipped == 3 and report.communities_done > 0
        assert fingerprint(other) == fingerprint(small)
        again = run(other, 1)
        assert again.already_done and not again.rows
        with psycopg.connect(other) as a, psycopg.connect(small) as b:
            export_truth(a, [KEY], tmp_path / "a.csv")
            export_truth(b, [KEY], tmp_path / "b.csv")
        assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
        run(other, 2, replace=True)
        assert fingerprint(other) != fingerprint(small)
        with psycopg.connect(other) as conn:
            assert one(conn, "SELECT count(*) FROM twin.synth_run") == 1
    finally:
        drop_database(pg_cluster, name)
