"""Counts by block and kind kept by the triggers: equal to a full recount after random
changes; served at /api/v1/blocks/{code} with parents and children; and re-placement of only
the records whose address was retired."""

from __future__ import annotations

import contextlib
import random
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from blocks.errors import PlacementInputError
from blocks.placement.aggregates import block_summary, recount_differences
from blocks.placement.refresh import refresh_placements
from blocks.placement.repository import BULK_ROWS
from blocks.placement.service import place_rows
from blocks.placement.services import service_analysis
from geocode.library.writes import retire_address
from geocode.service import Geocoder
from tests.blocks.placement_data import DISTRICT, STREET, truth
from tests.utils.auth import key_headers
from twin.db.connect import connect
from twin.settings import PostgresSettings, TileSettings, TwinSettings

pytestmark = pytest.mark.db
KINDS = ("household", "rental")
INDUSTRIES = ("制造业", "零售业", "餐饮业")
TYPES = ("噪音扰民", "占道经营", "消防隐患")


def _place(conninfo: str, geocoder: Geocoder, kind: str, header: list[str], rows: list[Any]) -> Any:
    with contextlib.closing(connect(conninfo)) as conn:
        out = place_rows(conn, geocoder.geocode_many, header, rows, kind=kind, source="agg",
                         actor="test")  # fmt: skip
        conn.commit()
    return out


def _codes(conninfo: str, sql: str) -> list[str]:
    with psycopg.connect(conninfo) as conn:
        return [r[0] for r in conn.execute(sql).fetchall()]


def _people(conninfo: str, rnd: random.Random, n: int) -> list[list[Any]]:
    return [[p["source_id"], rnd.choice(KINDS), p["messy_address"]]
            for p in truth(conninfo, "person", n)]  # fmt: skip


def test_counts_equal_a_full_recount_after_random_changes(
    street: tuple[str, str], geocoder: Geocoder
) -> None:
    rnd = random.Random(11)
    conninfo = street[0]
    rooms = _codes(conninfo, "SELECT code FROM twin.room ORDER BY code LIMIT 400")
    buildings = _codes(conninfo, "SELECT code FROM twin.building ORDER BY code LIMIT 50")
    _place(conninfo, geocoder, "person", ["id", "居住类型", "地址"], _people(conninfo, rnd, 120))
    for _ in range(3):  # re-place random subsets: other rooms, other industries and statuses
        firms = [[f"f{i}", f"公司{i}", rnd.choice(INDUSTRIES), rnd.choice(rooms)]
                 for i in rnd.sample(range(60), 40)]  # fmt: skip
        _place(conninfo, geocoder, "company", ["id", "名称", "行业", "code"], firms)
        events = [[f"e{i}", rnd.choice(TYPES), rnd.choice(("open", "closed")), "2025-05-01",
                   rnd.choice(buildings)] for i in rnd.sample(range(60), 40)]  # fmt: skip
        _place(conninfo, geocoder, "event", ["id", "事件类型", "状态", "发生时间", "code"], events)
        _place(conninfo, geocoder, "person", ["id", "居住类型", "地址"],
               _people(conninfo, rnd, 120)[: rnd.randint(10, 120)])  # fmt: skip
    # A batch big enough to skip the row triggers (BULK_ROWS): the counts still follow.
    bulk = [[f"b{i}", rnd.choice(TYPES), "open", "2025-05-01", rnd.choice(buildings)]
            for i in range(BULK_ROWS + 200)]  # fmt: skip
    _place(conninfo, geocoder, "event", ["id", "事件类型", "状态", "发生时间", "code"], bulk)
    with psycopg.connect(conninfo) as conn:
        conn.execute("DELETE FROM twin.placement WHERE id IN (SELECT id FROM twin.placement "
                     "ORDER BY id DESC LIMIT 7)")  # fmt: skip
        conn.execute("UPDATE twin.placement SET room_code = NULL, floor_no = NULL "
                     "WHERE record_kind = 'legal_entity' AND id % 3 = 0")  # fmt: skip
        conn.commit()
        assert recount_differences(conn) == []
        summary = block_summary(conn, STREET)
        (people, renting) = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE 'residence:rental' = ANY(facets)) "
            "FROM twin.placement WHERE record_kind = 'person' AND street_code = %s", (STREET,)
        ).fetchone() or (0, 0)  # fmt: skip
    counts = summary["unit"]["counts"]
    assert counts["people"]["total"] == people > 100 and counts["people"]["renting"] == renting
    assert counts["people"]["registered"] + counts["people"]["renting"] == people
    assert sum(counts["companies"]["by_industry"].values()) == counts["companies"]["total"]
    assert set(counts["events"]["by_type"]) <= set(TYPES)
    assert sum(counts["events"]["by_status"].values()) == counts["events"]["total"]
    assert [p["code"] for p in summary["parents"]] == [DISTRICT]
    communities = summary["children"]
    assert communities and all(c["level"] == "community" for c in communities)
    assert sum(c["counts"]["people"]["total"] for c in communities) == people


def test_only_placements_of_a_retired_address_are_placed_again(
    street: tuple[str, str], geocoder: Geocoder
) -> None:
    conninfo = street[0]
    old, new, other = _codes(conninfo, "SELECT code FROM twin.address WHERE level = 'building' "
                             "AND status <> 'retired' ORDER BY code DESC LIMIT 3")  # fmt: skip
    rows = [[f"r{i}", "消防隐患", "open", "2025-05-01", old] for i in range(3)]
    rows.append(["r3", "消防隐患", "open", "2025-05-01", other])
    _place(conninfo, geocoder, "event", ["id", "事件类型", "状态", "发生时间", "code"], rows)
    with contextlib.closing(connect(conninfo)) as conn:
        before = dict(conn.execute("SELECT id, placed_at FROM twin.placement").fetchall())
        retire_address(conn, old, [new], actor="test", reason="merged")
        conn.commit()
        fresh = Geocoder.from_db(conn)
        summary = refresh_placements(conn, fresh.geocode_many, "test refresh")
        conn.commit()
        after = conn.execute(
            "SELECT p.id, p.placed_at, p.building_code, p.method, p.confidence FROM "
            "twin.placement p JOIN twin.event e ON e.id = p.record_id AND p.record_kind = 'event' "
            "WHERE e.source = 'agg' AND e.source_id IN ('r0', 'r1', 'r2', 'r3') "
            "ORDER BY e.source_id"
        ).fetchall()
        now = dict(conn.execute("SELECT id, placed_at FROM twin.placement").fetchall())
        changed = [i for i, at in before.items() if now[i] != at]
        assert recount_differences(conn) == []
    assert summary.affected == 3 and summary.moved == 3, summary.line()
    assert [a[2] for a in after] == [new, new, new, other]
    assert all(a[3] == "code" and a[4] == pytest.approx(0.9) for a in after[:3])
    assert after[3][1] == before[after[3][0]]
    assert sorted(changed) == sorted(a[0] for a in after[:3])


def test_the_blocks_route(street: tuple[str, str]) -> None:
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(street[1])))
    app = create_app(settings, tiles=TileSettings(invalidate_on_change=False))
    community = f"{STREET}001"
    with TestClient(app) as client:
        admin = key_headers(street[0], "admin")
        planner = key_headers(street[0], "planner")
        res = client.get(f"/api/v1/blocks/{community}", headers=admin)
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["unit"]["level"] == "community"
        assert [p["code"] for p in body["parents"]] == [DISTRICT, STREET]
        assert all(c["level"] == "grid" for c in body["children"])
        with psycopg.connect(street[0]) as conn:
            row = conn.execute(
                "SELECT left(code, 14) FROM twin.block_counts WHERE length(code) = 19 "
                "AND events BETWEEN 1 AND 4 ORDER BY code LIMIT 1"
            ).fetchone()
        assert row is not None
        seen = client.get(f"/api/v1/blocks/{row[0]}", headers=planner).json()
        full = client.get(f"/api/v1/blocks/{row[0]}", headers=admin).json()
        shown = {b["code"]: b["counts"]["events"]["total"] for b in seen["children"]}
        real = {b["code"]: b["counts"]["events"]["total"] for b in full["children"]}
        assert any(v is None for v in shown.values())
        assert all((shown[c] is None) == (0 < n < 5) for c, n in real.items())
        assert all(b["level"] == "building" for b in full["children"])
        assert client.get("/api/v1/blocks/440306999999", headers=admin).status_code == 404
        assert client.get("/api/v1/blocks/44x", headers=admin).status_code == 422


def test_schools_against_the_people_around_them(street: tuple[str, str]) -> None:
    with psycopg.connect(street[0]) as conn:
        out = service_analysis(conn, "school", 800, STREET)
        wide = service_analysis(conn, "school", 20_000, STREET)
        with pytest.raises(PlacementInputError, match="no facility is of kind 'zoo'"):
            service_analysis(conn, "zoo")
        like = STREET + "%"
        people = conn.execute(
            "SELECT people FROM twin.block_counts WHERE code = %s", (STREET,)
        ).fetchone()
        housed = conn.execute(
            "SELECT sum(people) FROM twin.block_counts WHERE length(code) = 19 AND code LIKE %s",
            (like,),
        ).fetchone()
        schools = conn.execute(
            "SELECT count(*) FROM twin.compound WHERE kind = 'school' AND community_code LIKE %s",
            (like,),
        ).fetchone()
    rows = out["communities"]
    assert rows and out["radius_m"] == 800
    assert sum(r["residents"] for r in rows) == people[0]  # type: ignore[index]
    assert sum(r["facilities"] for r in rows) == schools[0]  # type: ignore[index]
    assert all(0 <= r["covered_residents"] <= r["residents"] for r in rows)
    assert sum(r["covered_residents"] for r in wide["communities"]) == housed[0]  # type: ignore[index]
    with_school = [r for r in rows if r["facilities"]]
    assert with_school and all(r["capacity"] > 0 for r in with_school)
