"""Placing people, companies and events on a generated street of Bao'an: by address against
the generator's truth, by code, by coordinates (GCJ-02 included), with invalid identifiers
reported per row and field, personal data stored masked, re-placement that never duplicates,
and paths consistent with the polygons."""

from __future__ import annotations

import contextlib
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from blocks.errors import PlacementInputError
from blocks.placement.repository import PgPlacementRepository
from blocks.placement.service import place_rows, place_table
from geocode.batch import Table, read_table
from geocode.service import Geocoder
from tests.blocks.placement_data import EVENT_HEADER, STREET, datum_events, truth, write_csv
from tests.utils.cli import twin
from twin.crs import wgs84_to_gcj02
from twin.db.connect import connect

pytestmark = pytest.mark.db


def _people_rows(conninfo: str, n: int) -> list[list[Any]]:
    people = truth(conninfo, "person", n)
    with psycopg.connect(conninfo) as conn:
        extra = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT source_id, name, id_number, phone, residence_kind FROM twin.person "
                "WHERE source_id = ANY(%s)",
                ([p["source_id"] for p in people],),
            ).fetchall()
        }
    return [[p["source_id"], *extra[p["source_id"]], p["messy_address"]] for p in people]


PEOPLE_HEADER = ["编号", "姓名", "身份证号", "电话", "居住类型", "现住址"]


def _placements(conninfo: str, kind: str, source: str) -> list[dict[str, Any]]:
    table = {"person": "person", "legal_entity": "legal_entity", "event": "event"}[kind]
    with psycopg.connect(conninfo) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            f"SELECT r.source_id, p.* FROM twin.placement p JOIN twin.{table} r "
            "ON r.id = p.record_id "
            "WHERE p.record_kind = %s AND r.source = %s ORDER BY r.source_id",
            (kind, source),
        ).fetchall()


def test_people_by_address_land_where_the_truth_says(
    street: tuple[str, str], geocoder: Geocoder, tmp_path: Path
) -> None:
    rows = _people_rows(street[0], 300)
    path = write_csv(tmp_path / "people.csv", PEOPLE_HEADER, rows)
    with contextlib.closing(connect(street[0])) as conn:
        summary = place_table(conn, geocoder.geocode_many, read_table(path), kind="person",
                              source="police", actor="test")  # fmt: skip
    assert summary.rows == 300 and summary.statuses["invalid"] == 0, summary.line()
    assert summary.statuses["placed"] >= 255, summary.line()
    placed = {p["source_id"]: p for p in _placements(street[0], "person", "police")}
    expected = {t["source_id"]: t for t in truth(street[0], "person", 300)}
    accepted = [s for s, p in placed.items() if p["band"] == "accept"]
    right = sum(placed[s]["room_code"] == expected[s]["room_code"] for s in accepted)
    assert right >= 0.97 * len(accepted), (right, len(accepted))
    assert all(placed[s]["method"] == "geocode" for s in accepted)
    # Personal data is stored masked: no full name, ID number or phone number anywhere.
    with psycopg.connect(street[0]) as conn:
        stored = conn.execute(
            "SELECT name, id_number, phone, attrs->>'id_number', residence_address "
            "FROM twin.person WHERE source = 'police'"
        ).fetchall()
        counts = dict(conn.execute(
            "SELECT residence_kind, count(*) FROM twin.person WHERE source = 'police' GROUP BY 1"
        ).fetchall())  # fmt: skip
    full = {r[2] for r in rows if r[2]} | {r[3] for r in rows if r[3]}
    assert len(stored) == 300 and all(s[1] is None for s in stored)
    assert not full & {v for s in stored for v in s}
    assert all("*" in s[0] and "*" in s[3] for s in stored)
    assert set(counts) <= {"household", "rental"} and sum(counts.values()) == 300


def test_paths_are_consistent_with_the_polygons(street: tuple[str, str]) -> None:
    with psycopg.connect(street[0]) as conn:
        bad = conn.execute(
            """SELECT count(*) FROM twin.placement p
               LEFT JOIN twin.building b ON b.code = p.building_code
               LEFT JOIN twin.admin_unit g ON g.code = p.grid_code
               LEFT JOIN twin.room r ON r.code = p.room_code
               WHERE (p.building_code IS NOT NULL AND (b.grid_code <> p.grid_code
                      OR NOT ST_Covers(ST_Buffer(g.geom, 1e-6), b.footprint)))
                  OR (p.room_code IS NOT NULL AND (r.building_code <> p.building_code
                      OR r.floor_no <> p.floor_no))
                  OR (p.grid_code IS NOT NULL AND g.parent_code <> p.community_code)"""
        ).fetchone()
        total = conn.execute("SELECT count(*) FROM twin.placement").fetchone()
    assert total is not None and total[0] > 0
    assert bad == (0,)


def test_placing_again_updates_and_never_duplicates(
    street: tuple[str, str], geocoder: Geocoder
) -> None:
    rows = _people_rows(street[0], 50)
    counts = []
    for _ in range(2):
        with contextlib.closing(connect(street[0])) as conn:
            results = place_rows(conn, geocoder.geocode_many, PEOPLE_HEADER, rows, kind="person",
                                 source="census", actor="test")  # fmt: skip
            conn.commit()
        with psycopg.connect(street[0]) as conn:
            counts.append(conn.execute(
                "SELECT (SELECT count(*) FROM twin.person WHERE source = 'census'), "
                "(SELECT count(*) FROM twin.placement p JOIN twin.person r ON r.id = p.record_id "
                " WHERE p.record_kind = 'person' AND r.source = 'census'), "
                "(SELECT people FROM twin.block_counts WHERE code = %s)", (STREET,)
            ).fetchone())  # fmt: skip
        assert len(results) == 50
    assert counts[0] == counts[1] and counts[0][0] == counts[0][1] == 50


def _companies(conninfo: str) -> tuple[list[list[Any]], dict[str, str]]:
    """Company rows placed by code, by point (WGS84 and GCJ-02) and with bad fields."""
    with psycopg.connect(conninfo) as conn:
        buildings = conn.execute(
            "SELECT code, ST_X(ST_PointOnSurface(footprint)), ST_Y(ST_PointOnSurface(footprint)) "
            "FROM twin.building ORDER BY code LIMIT 6"
        ).fetchall()
        rooms = [r[0] for r in conn.execute("SELECT code FROM twin.room ORDER BY code LIMIT 2")]
        found = conn.execute(
            "SELECT uscc FROM twin.legal_entity WHERE uscc IS NOT NULL ORDER BY id LIMIT 8"
        )
        usccs = [r[0] for r in found]
    bad_uscc = usccs[7][:17] + ("0" if usccs[7][17] != "0" else "1")
    gx, gy = wgs84_to_gcj02(buildings[3][1], buildings[3][2])
    rows = [
        ["c1", "甲公司", usccs[0], "制造业", rooms[0], "", ""],
        ["c2", "乙公司", usccs[1], "零售业", buildings[0][0], "", ""],
        ["c3", "丙公司", usccs[2], "零售业", "", buildings[1][1], buildings[1][2]],
        ["c4", "丁公司", usccs[3], "制造业", "4403XX", buildings[2][1], buildings[2][2]],
        ["c5", "戊公司", usccs[4], "", "", buildings[4][2], buildings[4][1]],  # swapped
        ["c6", "己公司", usccs[5], "", "", 114.9, 23.5],  # far away
        ["c7", "庚公司", bad_uscc, "", rooms[1], "", ""],
        ["c1", "甲公司重复", usccs[6], "", rooms[1], "", ""],
        ["c9", "", usccs[6], "", rooms[1], "", ""],
    ]
    expected = {"c1": rooms[0], "c2": buildings[0][0], "c3": buildings[1][0],
                "c4": buildings[2][0], "c5": buildings[4][0], "gcj": buildings[3][0]}  # fmt: skip
    rows.append(["c10", "辛公司", "", "", "", float(gx), float(gy)])
    return rows, expected


COMPANY_HEADER = ["id", "企业名称", "统一社会信用代码", "行业", "code", "x", "y"]


def test_companies_by_code_and_point_with_errors_per_row_and_field(
    street: tuple[str, str], geocoder: Geocoder
) -> None:
    rows, expected = _companies(street[0])
    with contextlib.closing(connect(street[0])) as conn:
        out = place_rows(conn, geocoder.geocode_many, COMPANY_HEADER, rows[:9], kind="company",
                         source="amr", actor="test", columns={"lon": "x", "lat": "y"})  # fmt: skip
        gcj = place_rows(conn, geocoder.geocode_many, COMPANY_HEADER, rows[9:], kind="company",
                         source="amr", actor="test", columns={"lon": "x", "lat": "y"},
                         crs="gcj02")  # fmt: skip
        conn.commit()
    by_id = {r.source_id: r for r in out[:7]}
    assert by_id["c1"].method == "code" and by_id["c1"].path.room == expected["c1"]
    assert by_id["c1"].path.floor_no is not None and by_id["c1"].confidence == 1.0
    assert by_id["c2"].method == "code" and by_id["c2"].path.building == expected["c2"]
    assert by_id["c3"].method == "point" and by_id["c3"].path.building == expected["c3"]
    assert by_id["c4"].method == "point" and by_id["c4"].path.building == expected["c4"]
    assert any(p.field == "code" for p in by_id["c4"].problems)
    assert by_id["c5"].path.building == expected["c5"]
    assert any("swapped" in p.message for p in by_id["c5"].problems)
    assert by_id["c6"].status == "rejected" and any("outside Shenzhen" in p.message
                                                    for p in by_id["c6"].problems)  # fmt: skip
    assert by_id["c7"].status == "invalid" and by_id["c7"].problems[0].field == "uscc"
    assert "should be" in by_id["c7"].problems[0].message
    assert out[7].status == "invalid" and "repeats row 1" in out[7].problems[0].message
    assert out[8].status == "invalid" and out[8].problems[0].field == "name"
    assert gcj[0].method == "point" and gcj[0].path.building == expected["gcj"]
    stored = {p["source_id"]: p for p in _placements(street[0], "legal_entity", "amr")}
    assert set(stored) == {"c1", "c2", "c3", "c4", "c5", "c6", "c10"}
    assert stored["c6"]["band"] == "reject" and stored["c6"]["review_status"] == "pending"
    assert stored["c1"]["facets"] == ["industry:制造业"]


def test_a_file_without_ids_or_places_is_refused(street: tuple[str, str], tmp_path: Path) -> None:
    with contextlib.closing(connect(street[0])) as conn:
        with pytest.raises(PlacementInputError, match="no record id column"):
            place_rows(conn, list, ["地址"], [["x"]], kind="person", source="s", actor="t")
        with pytest.raises(PlacementInputError, match="nothing to place by"):
            place_rows(conn, list, ["id", "姓名"], [["1", "x"]], kind="person", source="s",
                       actor="t")  # fmt: skip
        with pytest.raises(PlacementInputError, match="--code-column 'c' is not a column"):
            place_rows(conn, list, ["id", "地址"], [["1", "x"]], kind="person", source="s",
                       actor="t", columns={"code": "c"})  # fmt: skip
        with pytest.raises(PlacementInputError, match="kind 'car'"):
            place_rows(conn, list, ["id", "地址"], [["1", "x"]], kind="car", source="s", actor="t")


def test_the_command_line_places_events_with_a_report(
    street: tuple[str, str], tmp_path: Path
) -> None:
    events = truth(street[0], "event", 40)
    rows = [[e["source_id"], "噪音扰民", "2025-06-01 20:30", "open", e["messy_address"]]
            for e in events]  # fmt: skip
    rows.append(["bad", "噪音扰民", "昨天", "open", events[0]["messy_address"]])
    src = write_csv(
        tmp_path / "events.csv", ["id", "事件类型", "发生时间", "状态", "事发地址"], rows
    )
    env = {**os.environ, "DATABASE_URL": street[1]}
    done = twin(env, "place", str(src), "--kind", "event", "-o", str(tmp_path / "r.csv"))
    assert done.returncode == 0, done.stderr
    assert "41 rows:" in done.stdout and "1 invalid" in done.stdout, done.stdout
    report = read_table(tmp_path / "r.csv")
    last = dict(zip(report.columns, report.rows[-1], strict=True))
    assert last["status"] == "invalid" and last["problems"].startswith("occurred_at: '昨天'")
    first = dict(zip(report.columns, report.rows[0], strict=True))
    assert first["building_code"] == events[0]["building_code"]
    missing = twin(env, "place", str(src), "--kind", "event", "--code-column", "编码")
    assert missing.returncode == 1 and "--code-column '编码' is not a column" in missing.stderr


def test_points_in_memory_answer_as_the_database_does(street: tuple[str, str]) -> None:
    with psycopg.connect(street[0]) as conn:
        (w, s, e, n) = conn.execute(
            "SELECT ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x) FROM "
            "(SELECT ST_Extent(geom) AS x FROM twin.admin_unit WHERE code = %s) AS q", (STREET,)
        ).fetchone()  # fmt: skip
        corners = conn.execute(  # points on building outlines: ties between neighbours
            "SELECT ST_X(p.geom), ST_Y(p.geom) FROM (SELECT (ST_DumpPoints(footprint)).geom "
            "FROM twin.building ORDER BY code LIMIT 400) AS p"
        ).fetchall()
    rng = random.Random(5)
    points = [(i, rng.uniform(w - 0.002, e + 0.002), rng.uniform(s - 0.002, n + 0.002))
              for i in range(3000)]  # fmt: skip
    points += [(3000 + i, x, y) for i, (x, y) in enumerate(corners)]
    lon = np.array([p[1] for p in points])
    lat = np.array([p[2] for p in points])
    with contextlib.closing(connect(street[0])) as conn:
        in_db = PgPlacementRepository(conn, in_memory_from=10**9).locate_xy(lon, lat).tolist()
        in_memory = PgPlacementRepository(conn, in_memory_from=1).locate_xy(lon, lat).tolist()
    assert in_db == in_memory
    found = [c for c in in_db if c is not None]
    assert sum(len(c) == 19 for c in found) > 100 and len(found) < len(points)


def test_gcj02_points_given_as_wgs84_get_a_hint(street: tuple[str, str]) -> None:
    shifted, right = datum_events(street[0], 40)
    header = EVENT_HEADER
    with contextlib.closing(connect(street[0])) as conn:
        wrong = place_table(conn, list, Table(header, shifted), kind="event", source="gcj",
                            actor="test")  # fmt: skip
        fine = place_table(conn, list, Table(header, right), kind="event", source="wgs",
                           actor="test")  # fmt: skip
    assert len(wrong.hints) >= 1 and "--crs gcj02" in wrong.hints[0] and "hint:" in wrong.line()
    assert fine.hints == []
