"""Walking distances over the roads: never shorter than the straight line, longer round a
missing link; the service analysis by walking on a generated street with its people placed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

import shapely

from api.main import create_app
from blocks.placement.service import place_rows
from blocks.placement.services import service_analysis, walking_covered
from blocks.placement.walking import RoadGraph, metric, road_graph
from tests.blocks.placement_data import STREET, truth
from tests.utils.auth import key_headers
from twin.db.connect import connect
from twin.settings import PostgresSettings, TileSettings, TwinSettings


def test_a_missing_road_link_makes_the_walk_go_round() -> None:
    south, north = [(0, 0), (1000, 0)], [(0, 100), (1000, 100)]
    home, school = shapely.Point(0, -5), shapely.Point(0, 105)
    round_about = RoadGraph.from_lines(
        shapely.MultiLineString([south, north, [(1000, 0), (1000, 100)]])
    )
    linked = RoadGraph.from_lines(shapely.MultiLineString([south, north, [(0, 0), (0, 100)],
                                                           [(1000, 0), (1000, 100)]]))  # fmt: skip
    far = float(round_about.walk([home], [school])[0, 0])
    near = float(linked.walk([home], [school])[0, 0])
    straight = home.distance(school)
    assert straight == 110 and near >= straight and far >= straight
    assert far == pytest.approx(5 + 1000 + 100 + 1000 + 5) and near == pytest.approx(110)
    assert float(linked.nearest_walk([school], [home])[0]) == pytest.approx(near)
    assert np.isinf(linked.nearest_walk([school], [home], limit=100.0)[0])


@pytest.fixture(scope="module")
def peopled(street: tuple[str, str]) -> tuple[str, str]:
    """The street with every generated person placed by room code."""
    rows = [[p["source_id"], p["room_code"]] for p in truth(street[0], "person", 100_000)]
    with contextlib.closing(connect(street[0])) as conn:
        place_rows(conn, list, ["id", "code"], rows, kind="person", source="census", actor="t")
        conn.commit()
    return street


def _shapes(conn: psycopg.Connection[Any]) -> tuple[list[Any], list[Any]]:
    schools = [metric(shapely.from_wkb(r[0])) for r in conn.execute(
        "SELECT ST_AsBinary(coalesce(c.geom, ST_Multi(ST_Union(b.footprint)))) "
        "FROM twin.compound c JOIN twin.building b ON b.compound_id = c.id "
        "WHERE c.kind = 'school' GROUP BY c.id ORDER BY c.id").fetchall()]  # fmt: skip
    homes = [metric(shapely.from_wkb(r[0])) for r in conn.execute(
        "SELECT ST_AsBinary(b.footprint) FROM twin.building b JOIN twin.block_counts k "
        "ON k.code = b.code WHERE k.people > 0 ORDER BY b.code").fetchall()]  # fmt: skip
    return schools, homes


@pytest.mark.db
def test_every_walk_is_at_least_the_straight_line(peopled: tuple[str, str]) -> None:
    with psycopg.connect(peopled[0]) as conn:
        schools, homes = _shapes(conn)
        graph = road_graph(conn)
        assert road_graph(conn) is graph  # built once
    assert schools and len(homes) > 100
    walk = graph.walk(schools, homes)
    straight = shapely.distance(np.array(schools, dtype=object)[:, None],
                                np.array(homes, dtype=object)[None, :])  # fmt: skip
    assert walk.shape == straight.shape and bool(np.all(walk >= straight - 1e-6))
    assert float(np.median(walk / np.maximum(straight, 1.0))) > 1.05  # roads do not run straight
    np.testing.assert_allclose(graph.nearest_walk(schools, homes), walk.min(axis=0), rtol=1e-9)


@pytest.mark.db
def test_walking_covers_fewer_and_a_removed_road_covers_fewer_still(
    peopled: tuple[str, str],
) -> None:
    with contextlib.closing(connect(peopled[0])) as conn:
        straight = service_analysis(conn, "school", 2_000, STREET)
        walking = service_analysis(conn, "school", 2_000, STREET, "walking")
        assert walking["distance"] == "walking" and straight["distance"] == "straight"
        pairs = zip(straight["communities"], walking["communities"], strict=True)
        for s, w in pairs:
            assert s["code"] == w["code"] and s["residents"] == w["residents"]
            assert 0 <= w["covered_residents"] <= s["covered_residents"]
        total = sum(w["covered_residents"] for w in walking["communities"])
        assert 0 < total < sum(s["covered_residents"] for s in straight["communities"])
        before = walking_covered(conn, "school", 2_000.0)
        schools, homes = _shapes(conn)
        # Take away the road nearest to a school.
        (road,) = conn.execute(
            "SELECT r.id FROM twin.road r, twin.compound c WHERE c.kind = 'school' "
            "ORDER BY ST_Distance(r.geom, c.geom) LIMIT 1").fetchone()  # fmt: skip
        walked = road_graph(conn).walk(schools, homes)
        conn.execute("SET twin.bulk = 'on'")
        conn.execute("DELETE FROM twin.address WHERE road_id = %s", (road,))
        conn.execute("DELETE FROM twin.road WHERE id = %s", (road,))
        cut = road_graph(conn).walk(schools, homes)
        after = walking_covered(conn, "school", 2_000.0)
        conn.rollback()
    # Walks that used the road go round now (a walk may also get shorter: a home whose
    # nearest node was on that road now starts from another one); none beats the line.
    assert bool(np.any(cut > walked + 100.0))
    straight_m = shapely.distance(np.array(schools, dtype=object)[:, None],
                                  np.array(homes, dtype=object)[None, :])  # fmt: skip
    assert bool(np.all(cut >= straight_m - 1e-6))
    assert sum(after.values()) != sum(before.values())


@pytest.fixture(scope="module")
def client(peopled: tuple[str, str]) -> Iterator[TestClient]:
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(peopled[1])))
    app = create_app(settings, tiles=TileSettings(invalidate_on_change=False))
    with TestClient(app, headers=key_headers(peopled[0], "planner", None, "p-w")) as c:
        yield c


@pytest.mark.db
def test_the_services_route_takes_a_distance(client: TestClient) -> None:
    base = "/api/v1/analysis/services?kind=school&radius_m=1000"
    plain = client.get(base)
    walk = client.get(base + "&distance=walking")
    assert plain.status_code == walk.status_code == 200, walk.text
    assert plain.json()["distance"] == "straight" and walk.json()["distance"] == "walking"
    covered = [c["covered_residents"] for c in walk.json()["communities"]]
    assert covered == [c["covered_residents"] for c in client.get(
        base + "&distance=walking").json()["communities"]]  # fmt: skip
    assert client.get(base + "&distance=flying").status_code == 422
