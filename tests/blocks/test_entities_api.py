"""The entity coding API: a FeatureCollection in, one result per feature out, stable codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from shapely import Point
from shapely.geometry import mapping

from api.main import create_app
from tests.blocks.seed import X0, Y0, A, B, D, footprint
from tests.utils.auth import key_headers
from twin.crs import from_wgs84, parse_crs
from twin.settings import PostgresSettings, TileSettings, TwinSettings

pytestmark = pytest.mark.db
URL = "/api/v1/entities:code"


@pytest.fixture
def client(db_url: str, committed: str) -> Iterator[TestClient]:
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(db_url)))
    app = create_app(settings, tiles=TileSettings(invalidate_on_change=False))
    with TestClient(app, headers=key_headers(committed, "system")) as c:
        yield c


def feature(geom: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": mapping(geom), "properties": props}


def test_a_batch_is_coded_and_recoding_it_returns_the_same_codes(client: TestClient) -> None:
    batch = {
        "type": "FeatureCollection",
        "class": "3101",
        "source": "housing-bureau",
        "features": [
            feature(footprint(X0 + 0.002, Y0 + 0.002), source_id="b-1", name="1栋"),
            feature(footprint(X0 + D + 0.002, Y0 + 0.002), source_id="b-2"),
            feature(Point(X0 + 0.004, Y0 + 0.004), source_id="h-1", **{"class": "9101"}),
        ],
    }
    res = client.post(
        URL,
        json=batch,
    )
    assert res.status_code == 200, res.text
    body = res.json()
    codes = [r["code"] for r in body["results"]]
    assert codes == [f"{A}3101000001", f"{B}3101000001", f"{A}9101000001"]
    assert [r["row"] for r in body["results"]] == [1, 2, 3]
    assert body["counts"] == {"new": 3}
    again = client.post(URL, json=batch).json()
    assert [r["code"] for r in again["results"]] == codes
    assert again["counts"] == {"existing": 3}
    entity = client.get(f"/api/v1/entities/{codes[0]}")
    assert entity.status_code == 200
    assert entity.json()["name"] == "1栋" and entity.json()["community_code"] == A
    assert entity.json()["status"] == "active" and entity.json()["source_id"] == "b-1"


def test_beidou_form_and_a_declared_crs(client: TestClient) -> None:
    x, y = from_wgs84(X0 + 0.003, Y0 + 0.003, parse_crs("EPSG:4547"))
    batch = {
        "features": [feature(Point(float(x), float(y)))],
        "class": "9101",
        "form": "beidou",
        "crs": "EPSG:4547",
    }
    res = client.post(URL, json=batch)
    assert res.status_code == 200, res.text
    (row,) = res.json()["results"]
    assert row["status"] == "new" and row["community_code"] == A
    assert row["code"].startswith(row["beidou_code"][:14]) and row["code"].endswith("91010001")


def test_bad_rows_are_reported_by_row_and_field_and_the_rest_is_coded(client: TestClient) -> None:
    batch = {
        "class": "3101",
        "features": [
            feature(footprint(X0 + 0.002, Y0 + 0.002)),
            feature(footprint(X0 + 1.0, Y0)),  # outside every community
            {"type": "Feature", "geometry": None, "properties": {}},
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": "x"}},
            feature(footprint(X0 + 0.005, Y0 + 0.005), **{"class": "9999"}),
        ],
    }
    res = client.post(URL, json=batch)
    assert res.status_code == 200, res.text
    rows = res.json()["results"]
    assert [r["status"] for r in rows] == ["new"] + ["rejected"] * 4
    assert rows[1]["problems"].startswith("geometry: lies outside every community")
    assert "geometry" in rows[2]["problems"] and "missing" in rows[2]["problems"]
    assert "unreadable" in rows[3]["problems"]
    assert rows[4]["problems"].startswith("class: unknown class '9999'")
    assert all(r["code"] is None for r in rows[1:])


def test_whole_request_errors_are_clear(client: TestClient) -> None:
    bad_crs = client.post(URL, json={"features": [], "crs": "EPSG:999999"})
    assert bad_crs.status_code == 422 and "999999" in bad_crs.json()["detail"]
    bad_form = client.post(URL, json={"features": [], "form": "grid"})
    assert bad_form.status_code == 422
    missing = client.get("/api/v1/entities/4403110010013101999999")
    assert missing.status_code == 404 and "4403110010013101999999" in missing.json()["detail"]


def test_the_classification_is_listed(client: TestClient) -> None:
    res = client.get("/api/v1/entity-classes", params={"level": "major"})
    assert res.status_code == 200
    classes = res.json()["classes"]
    assert len(classes) == 9 and all(c["name_zh"] and c["name_en"] for c in classes)
