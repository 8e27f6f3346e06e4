"""Placement over HTTP: batches, the review queue, corrections that teach the geocoder, and a
grid worker's scope (a worker of one community neither places, sees nor corrects another's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from tests.blocks.placement_data import STREET
from tests.utils.auth import key_headers
from twin.settings import PostgresSettings, TileSettings, TwinSettings

pytestmark = pytest.mark.db
MINE, OTHER = f"{STREET}001", f"{STREET}002"


@pytest.fixture(scope="module")
def app(street: tuple[str, str]) -> Any:
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(street[1])))
    return create_app(settings, tiles=TileSettings(invalidate_on_change=False))


@pytest.fixture(scope="module")
def worker(app: Any, street: tuple[str, str]) -> Iterator[TestClient]:
    with TestClient(app, headers=key_headers(street[0], "grid_worker", MINE, "w-a")) as c:
        yield c


@pytest.fixture(scope="module")
def supervisor(app: Any, street: tuple[str, str]) -> Iterator[TestClient]:
    with TestClient(app, headers=key_headers(street[0], "supervisor", None, "s-1")) as c:
        yield c


def _off_building_points(conninfo: str, community: str, n: int) -> list[tuple[float, float]]:
    """Door plates of a community: on its roads, inside its grids, in no building."""
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            "SELECT ST_X(a.geom), ST_Y(a.geom) FROM twin.address a "
            "WHERE a.level = 'door' AND a.community_code = %s AND NOT EXISTS "
            "(SELECT 1 FROM twin.building b WHERE ST_Intersects(b.footprint, a.geom)) "
            "AND EXISTS (SELECT 1 FROM twin.admin_unit g WHERE g.level = 'grid' "
            "AND g.parent_code = %s AND ST_Intersects(g.geom, a.geom)) ORDER BY a.code LIMIT %s",
            (community, community, n),
        ).fetchall()


def _building(conninfo: str, community: str) -> str:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT code FROM twin.address WHERE level = 'building' AND community_code = %s "
            "ORDER BY code LIMIT 1",
            (community,),
        ).fetchone()
    assert row is not None
    return str(row[0])


def _records(conninfo: str) -> list[dict[str, Any]]:
    mine = _off_building_points(conninfo, MINE, 2)
    other = _off_building_points(conninfo, OTHER, 1)
    texts = ["那边老王家楼下", "不知道哪里", "随便写的地址"]
    return [
        {"id": f"r{i}", "name": "张三丰", "address": t, "lon": x, "lat": y}
        for i, (t, (x, y)) in enumerate(zip(texts, mine + other, strict=True))
    ]


def test_a_batch_places_inside_the_workers_scope_only(
    street: tuple[str, str], worker: TestClient, supervisor: TestClient
) -> None:
    records = _records(street[0])
    res = worker.post("/api/v1/placements:batch", json={"kind": "person", "records": records})
    assert res.status_code == 200, res.text
    results = res.json()["results"]
    assert [r["status"] for r in results] == ["review", "review", "invalid"]
    assert results[0]["method"] == "point" and results[0]["community_code"] == MINE
    assert results[2]["problems"].startswith("scope: placed in ")
    # The supervisor (no scope) places the third; then the worker may not move it.
    other = supervisor.post("/api/v1/placements:batch",
                            json={"kind": "person", "records": records[2:]})  # fmt: skip
    assert other.json()["results"][0]["status"] == "review"
    moved = dict(records[2], lon=records[0]["lon"], lat=records[0]["lat"])
    again = worker.post("/api/v1/placements:batch", json={"kind": "person", "records": [moved]})
    assert again.json()["results"][0]["problems"].startswith("id: 'r2' is placed outside")
    too_many = worker.post("/api/v1/placements:batch",
                           json={"kind": "person", "records": [{"id": "x"}] * 1001})  # fmt: skip
    assert too_many.status_code == 422
    assert worker.post("/api/v1/placements:batch", json={"kind": "person"}).status_code == 422
    nameless = {"kind": "person", "records": [{"id": "1", "name": "x"}]}
    no_place = worker.post("/api/v1/placements:batch", json=nameless)
    assert no_place.status_code == 422 and "nothing to place by" in no_place.json()["detail"]


def test_the_review_queue_and_corrections_that_teach_the_geocoder(
    street: tuple[str, str], worker: TestClient, supervisor: TestClient
) -> None:
    queue = worker.get("/api/v1/review").json()["items"]
    assert {i["source_id"] for i in queue} >= {"r0", "r1"} and "r2" not in {
        i["source_id"] for i in queue
    }
    assert all(i["community_code"] == MINE for i in queue)
    assert all(i["name"] == "张**" for i in queue)
    assert worker.get("/api/v1/review", params={"community": OTHER}).status_code == 403
    everything = supervisor.get("/api/v1/review").json()["items"]
    assert "r2" in {i["source_id"] for i in everything}
    # Pages of one: the total counts the whole queue (the worker's: its scope only), the pages
    # together hold the queue in order, and a page past the end is empty with the same total.
    pages = [supervisor.get("/api/v1/review", params={"limit": 1, "offset": k}).json()
             for k in range(len(everything) + 1)]  # fmt: skip
    assert {p["total"] for p in pages} == {len(everything)} and pages[-1]["items"] == []
    assert [p["items"][0]["id"] for p in pages[:-1]] == [i["id"] for i in everything]
    assert worker.get("/api/v1/review", params={"limit": 1}).json()["total"] == len(queue)
    r0 = next(i for i in queue if i["source_id"] == "r0")
    r2 = next(i for i in everything if i["source_id"] == "r2")
    # A worker cannot correct a placement of another community, nor to a block of one.
    assert worker.post(f"/api/v1/review/{r2['id']}", json={"action": "confirm"}).status_code == 403
    elsewhere = _building(street[0], OTHER)
    res = worker.post(f"/api/v1/review/{r0['id']}", json={"action": "correct", "code": elsewhere})
    assert res.status_code == 403
    target = _building(street[0], MINE)
    before = worker.get("/api/v1/geocode", params={"q": "那边老王家楼下"}).json()
    assert before["code"] != target
    fixed = worker.post(f"/api/v1/review/{r0['id']}", json={"action": "correct", "code": target})
    assert fixed.status_code == 200, fixed.text
    body = fixed.json()
    assert body["method"] == "manual" and body["building_code"] == target
    assert body["review_status"] == "corrected" and body["band"] == "accept"
    assert body["alias"] == {"code": target, "text": "那边老王家楼下"}
    after = worker.get("/api/v1/geocode", params={"q": "那边老王家楼下"}).json()
    assert after["code"] == target and after["band"] == "accept"
    twice = worker.post(f"/api/v1/review/{r0['id']}", json={"action": "confirm"})
    assert twice.status_code == 409
    r1 = next(i for i in queue if i["source_id"] == "r1")
    ok = worker.post(f"/api/v1/review/{r1['id']}", json={"action": "confirm"})
    assert ok.status_code == 200 and ok.json()["review_status"] == "confirmed"
    assert ok.json()["method"] == "point"
    left = {i["source_id"] for i in worker.get("/api/v1/review").json()["items"]}
    assert not left & {"r0", "r1"}
    bad = supervisor.post(f"/api/v1/review/{r2['id']}", json={"action": "correct", "code": "4403"})
    assert bad.status_code == 422
    assert (
        supervisor.post("/api/v1/review/999999999", json={"action": "confirm"}).status_code == 404
    )
    # Placing the same record again keeps the reviewer's correction (same input).
    again = worker.post("/api/v1/placements:batch",
                        json={"kind": "person", "records": _records(street[0])[:1]})  # fmt: skip
    assert again.json()["results"][0]["method"] == "manual"
