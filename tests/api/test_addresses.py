"""The address API: create returns a code, ETags guard changes, as-of reads, retirement."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from tests.utils.auth import key_headers
from tests.utils.blocks import DISTRICT, X0, Y0, seed_chain
from twin.settings import PostgresSettings, TileSettings, TwinSettings

pytestmark = pytest.mark.db


@pytest.fixture
def client(db_url: str, db_conninfo: str) -> Iterator[TestClient]:
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        seed_chain(conn)
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(db_url)))
    app = create_app(settings, tiles=TileSettings(invalidate_on_change=False))
    try:
        with TestClient(app, headers=key_headers(db_conninfo, name="clerk-7")) as c:
            yield c
    finally:
        with psycopg.connect(db_conninfo, autocommit=True) as conn:
            conn.execute("SET twin.bulk = 'on'")
            for table in ("address", "address_history", "code_counter", "admin_unit"):
                conn.execute(f"DELETE FROM twin.{table}")


def _door(client: TestClient, text: str = "宝安区翻身路45号") -> dict:
    client.post(
        "/api/v1/addresses", json={"level": "district", "text": "宝安区", "unit_code": DISTRICT}
    )
    road = client.post(
        "/api/v1/addresses", json={"level": "road", "text": "宝安区翻身路", "parent_code": DISTRICT}
    )
    assert road.status_code == 201, road.text
    res = client.post(
        "/api/v1/addresses",
        json={
            "level": "door",
            "text": text,
            "parent_code": road.json()["code"],
            "lon": X0 + 0.005,
            "lat": Y0 + 0.005,
        },
        headers={"X-Actor": "clerk-7"},
    )
    assert res.status_code == 201, res.text
    assert res.headers["location"] == f"/api/v1/addresses/{res.json()['code']}"
    return res.json()


def test_create_read_and_search(client: TestClient) -> None:
    door = _door(client)
    res = client.get(f"/api/v1/addresses/{door['code']}")
    assert res.status_code == 200 and res.headers["etag"] == '"v1"'
    assert res.json()["text"] == "宝安区翻身路45号"
    found = client.get("/api/v1/addresses", params={"level": "door", "text": "翻身"}).json()
    assert [a["code"] for a in found["addresses"]] == [door["code"]]
    assert client.get("/api/v1/addresses/440306017001D99999").status_code == 404


def test_changes_need_the_version_read(client: TestClient) -> None:
    door = _door(client)
    code = door["code"]
    url = f"/api/v1/addresses/{code}"
    missing = client.patch(url, json={"text": "宝安区翻身路47号"})
    assert missing.status_code == 422 and "If-Match" in missing.json()["detail"]
    ok = client.patch(
        url,
        json={"text": "宝安区翻身路47号", "add_aliases": ["翻身路47号"]},
        headers={"If-Match": '"v1"'},
    )
    assert ok.status_code == 200 and ok.headers["etag"] == '"v2"'
    assert ok.json()["aliases"] == ["翻身路47号"]
    stale = client.patch(url, json={"text": "宝安区翻身路49号"}, headers={"If-Match": '"v1"'})
    assert stale.status_code == 412
    assert client.get(url).json()["text"] == "宝安区翻身路47号"
    old = client.get(url, params={"as_of": door["valid_from"]})
    assert old.status_code == 200 and old.json()["text"] == "宝安区翻身路45号"
    assert old.json()["version"] == 1


def test_retire_points_to_successors(client: TestClient) -> None:
    old = _door(client)
    new = client.post(
        "/api/v1/addresses",
        json={
            "level": "door",
            "text": "宝安区翻身路51号",
            "parent_code": old["parent_code"],
            "lon": X0 + 0.006,
            "lat": Y0 + 0.006,
        },
    ).json()
    res = client.patch(
        f"/api/v1/addresses/{old['code']}",
        json={"retire_successors": [new["code"]], "reason": "merged"},
        headers={"If-Match": '"v1"'},
    )
    assert res.status_code == 200, res.text
    body = client.get(f"/api/v1/addresses/{old['code']}").json()
    assert body["status"] == "retired" and body["successor_codes"] == [new["code"]]


def test_bad_input_is_422_with_a_reason(client: TestClient) -> None:
    res = client.post("/api/v1/addresses", json={"level": "door", "text": "x"})
    assert res.status_code == 422 and "location" in res.json()["detail"]
    res = client.post("/api/v1/addresses", json={"level": "planet", "text": "x"})
    assert res.status_code == 422
