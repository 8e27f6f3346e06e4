"""The viewer's routes on the generator's ``small`` street of Bao'an with its records placed.

Units as GeoJSON, the block path, a building's card, its rooms and records, the search box;
privacy (counts below 5 withheld, records only for roles allowed them, masked, in scope).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

import shapely

from api.main import create_app
from tests.utils.auth import key_headers
from twin.db.connect import connect
from twin.settings import PostgresSettings, TwinSettings

pytestmark = [pytest.mark.db, pytest.mark.slow]
STREET = "440306017"
#: The building with the most people, and a room of it with 1-4 people (withheld for planners).
_BUSIEST = """
SELECT b.code, c.people, c.companies, c.events, ST_AsText(b.footprint), b.grid_code
FROM twin.building AS b JOIN twin.block_counts AS c ON c.code = b.code
ORDER BY c.people DESC, b.code LIMIT 1
"""
_SMALL_ROOM = """
SELECT r.code, c.people FROM twin.room AS r JOIN twin.block_counts AS c ON c.code = r.code
WHERE r.building_code = %s AND c.people BETWEEN 1 AND 4 ORDER BY r.code LIMIT 1
"""


@pytest.fixture(scope="module")
def street(placed_street_url: str) -> Iterator[dict[str, Any]]:
    """Facts of the street read straight from the database, and keys of each role."""
    with contextlib.closing(connect(placed_street_url)) as conn:
        code, people, companies, events, wkt, grid = conn.execute(_BUSIEST).fetchone()  # type: ignore[misc]
        room = conn.execute(_SMALL_ROOM, (code,)).fetchone()
        facts = {
            "url": placed_street_url, "building": code, "people": people,
            "companies": companies, "events": events, "footprint": shapely.from_wkt(wkt),
            "grid": grid, "room": room,
            "buildings": conn.execute("SELECT count(*) FROM twin.building").fetchone()[0],  # type: ignore[index]
            "names": {r[0] for r in conn.execute(
                "SELECT p.name FROM twin.person p JOIN twin.placement pl "
                "ON pl.record_kind = 'person' AND pl.record_id = p.id WHERE pl.building_code = %s",
                (code,))},
        }  # fmt: skip
    facts["keys"] = {
        "admin": key_headers(placed_street_url, "admin"),
        "planner": key_headers(placed_street_url, "planner"),
        "worker_in": key_headers(placed_street_url, "grid_worker", grid),
        "worker_out": key_headers(placed_street_url, "grid_worker", "440306017001"),
    }
    yield facts


@pytest.fixture(scope="module")
def client(street: dict[str, Any]) -> Iterator[TestClient]:
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(street["url"])))
    with TestClient(create_app(settings)) as c:
        yield c


def _get(client: TestClient, street: dict[str, Any], url: str, role: str = "admin") -> Any:
    res = client.get(url, headers=street["keys"][role])
    assert res.status_code == 200, res.text
    return res.json()


def test_root_sends_the_browser_to_the_viewer_keeping_the_query(client: TestClient) -> None:
    res = client.get("/?api_key=abc&lang=en", follow_redirects=False)
    assert res.status_code == 307
    assert res.headers["location"] == "/viewer/app/index.html?api_key=abc&lang=en"


def test_units_are_geojson_with_names_counts_and_buildings(
    client: TestClient, street: dict[str, Any]
) -> None:
    streets = _get(client, street, "/api/v1/units?level=street&parent=440306")
    ours = next(f for f in streets["features"] if f["id"] == STREET)
    assert ours["properties"]["name"] == "新安街道"
    assert ours["properties"]["buildings"] == street["buildings"]
    assert ours["properties"]["people"] > 10_000
    communities = _get(client, street, f"/api/v1/units?level=community&parent={STREET}")
    feats = communities["features"]
    assert len(feats) == 22
    assert all(f["properties"]["name"].endswith("社区") for f in feats)
    assert all(f["properties"]["parent_code"] == STREET for f in feats)
    # The communities' numbers add up to their street's.
    for key in ("people", "companies", "events", "buildings"):
        assert sum(f["properties"][key] for f in feats) == ours["properties"][key]
    for f in feats:  # the label point lies inside the (simplified) outline
        shape = shapely.geometry.shape(f["geometry"])
        assert shape.is_valid and shape.buffer(1e-3).contains(
            shapely.Point(f["properties"]["label"])
        )


def test_units_and_blocks_name_bad_input(client: TestClient, street: dict[str, Any]) -> None:
    h = street["keys"]["planner"]
    res = client.get("/api/v1/units?level=city", headers=h)
    assert res.status_code == 422 and "level 'city'" in res.json()["detail"]
    res = client.get("/api/v1/units?level=grid&parent=44x", headers=h)
    assert res.status_code == 422 and "parent '44x'" in res.json()["detail"]
    assert client.get("/api/v1/blocks/4403069/path", headers=h).status_code == 422
    assert client.get("/api/v1/blocks/440306099/path", headers=h).status_code == 404
    res = client.get("/api/v1/buildings/440306017001", headers=h)
    assert res.status_code == 422 and "19 digits" in res.json()["detail"]
    assert client.get("/api/v1/units?level=street").status_code == 401


def test_block_path_from_district_to_building(client: TestClient, street: dict[str, Any]) -> None:
    code = street["building"]
    path = _get(client, street, f"/api/v1/blocks/{code}/path")["path"]
    assert [p["level"] for p in path] == ["district", "street", "community", "grid", "building"]
    assert [p["code"] for p in path] == [code[:n] for n in (6, 9, 12, 14, 19)]
    assert path[0]["name"] == "宝安区" and path[1]["name"] == "新安街道"
    assert path[-1]["people"] == street["people"]
    people = [p["people"] for p in path]
    assert people == sorted(people, reverse=True)  # each level holds the next
    w, s, e, n = path[-1]["bbox"]
    assert shapely.box(w, s, e, n).buffer(1e-9).contains(street["footprint"])


def test_building_card(client: TestClient, street: dict[str, Any]) -> None:
    card = _get(client, street, f"/api/v1/buildings/{street['building']}")
    assert card["code"] == street["building"] and card["grid_code"] == street["grid"]
    assert (card["people"], card["companies"], card["events"]) == (
        street["people"], street["companies"], street["events"],
    )  # fmt: skip
    assert card["address"]["code"] == street["building"]
    assert card["address"]["text"].startswith("广东省深圳市宝安区新安街道")
    assert card["address"]["aliases"] and all(a["text"] for a in card["address"]["aliases"])
    floors = [f["floor_no"] for f in card["floor_list"]]
    assert len(floors) == card["floors"] + card["basement_floors"] and 0 not in floors
    assert sum(f["rooms"] for f in card["floor_list"]) == card["rooms"] > 0
    # People placed in rooms are on a floor; the rest at the building itself.
    assert 0 < sum(f["people"] or 0 for f in card["floor_list"]) <= card["people"]
    assert shapely.Point(card["location"]).within(street["footprint"])
    assert [p["level"] for p in card["path"]][-1] == "building"


def test_counts_below_five_are_withheld_from_planners(
    client: TestClient, street: dict[str, Any]
) -> None:
    room, people = street["room"]
    url = f"/api/v1/buildings/{street['building']}/rooms"
    by_role = {}
    for role in ("admin", "planner", "worker_in", "worker_out"):
        feats = _get(client, street, url, role)["features"]
        by_role[role] = next(
            f["properties"]["people"] for f in feats if f["properties"]["room_code"] == room
        )
    assert by_role == {"admin": people, "planner": None, "worker_in": people, "worker_out": None}


def test_rooms_floor_by_floor(client: TestClient, street: dict[str, Any]) -> None:
    card = _get(client, street, f"/api/v1/buildings/{street['building']}")
    feats = _get(client, street, f"/api/v1/buildings/{street['building']}/rooms")["features"]
    rooms = [f for f in feats if f["properties"]["room_code"]]
    assert len(rooms) == card["rooms"]
    assert {f["properties"]["floor_no"] for f in feats} == {
        f["floor_no"] for f in card["floor_list"]
    }
    assert all(f["properties"]["room_code"].startswith(street["building"]) for f in rooms)
    assert sum(f["properties"]["people"] or 0 for f in rooms) == sum(
        f["people"] or 0 for f in card["floor_list"]
    )
    outline = street["footprint"].buffer(1e-6)
    for f in feats:
        p = f["properties"]
        assert p["top_m"] > p["bottom_m"]
        assert outline.contains(shapely.geometry.shape(f["geometry"]))


def test_records_are_masked_and_only_for_roles_allowed(
    client: TestClient, street: dict[str, Any]
) -> None:
    url = f"/api/v1/buildings/{street['building']}/records?kind=person&limit=1000"
    people = _get(client, street, url)["records"]
    assert len(people) == street["people"]
    shown = {p["name"] for p in people}
    assert shown and not shown & street["names"]  # no full name leaves the server
    assert all("*" in p["name"] for p in people if len(p["name"]) > 1)
    assert all(p["id_number"] == "" or "*" in p["id_number"] for p in people)
    assert _get(client, street, url, "worker_in")["records"] == people
    for role in ("planner", "worker_out"):
        assert client.get(url, headers=street["keys"][role]).status_code == 403
    res = client.get(url.replace("person", "ghost"), headers=street["keys"]["admin"])
    assert res.status_code == 422 and "kind 'ghost'" in res.json()["detail"]


def test_search_finds_a_building_by_its_address(client: TestClient, street: dict[str, Any]) -> None:
    card = _get(client, street, f"/api/v1/buildings/{street['building']}")
    alias = card["address"]["aliases"][0]["text"]
    found = _get(client, street, f"/api/v1/viewer/search?q={alias}", "planner")
    first = found["results"][0]
    assert first["code"] == street["building"] and first["level"] == "building"
    assert first["building"] == street["building"] and first["confidence"] > 0.5
    assert first["text"] == card["address"]["text"]
    assert shapely.Point(first["lon"], first["lat"]).distance(street["footprint"]) < 1e-3
    found = _get(client, street, "/api/v1/viewer/search?q=新安街道灵芝园社区", "planner")
    assert found["results"][0]["level"] == "community"
    assert found["results"][0]["code"].startswith(STREET)


def test_me_names_the_role_and_what_it_may_do(client: TestClient, street: dict[str, Any]) -> None:
    me = _get(client, street, "/api/v1/viewer/me", "worker_in")
    assert me["role"] == "grid_worker" and me["scope"] == street["grid"]
    assert "records" in me["permissions"] and "admin" not in me["permissions"]
    planner = _get(client, street, "/api/v1/viewer/me", "planner")
    assert planner["permissions"] == ["read"] and planner["scope"] is None
