"""``twin.notebook``: the Deck's layers point at the server, and the server answers each of them."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from models3d.source import buildings_from_db
from models3d.tiles3d.citymodel import build_city_tileset
from tests.utils.auth import key_headers
from tiles.tms import tile_for
from twin.db.connect import connect
from twin.errors import ConfigError
from twin.notebook import colour_expression, twin_deck
from twin.settings import ModelSettings, PostgresSettings, TwinSettings


def _layers(deck: Any) -> dict[str, dict[str, Any]]:
    return {layer["id"]: layer for layer in json.loads(deck.to_json())["layers"]}


def test_deck_layers_point_at_the_server_with_the_key() -> None:
    deck = twin_deck("http://twin.example:8000/", "twin_key", statistic="companies", level="grid")
    layers = _layers(deck)
    assert {k: v["@@type"] for k, v in layers.items()} == {
        "units": "GeoJsonLayer", "buildings": "MVTLayer", "city": "Tile3DLayer",
    }  # fmt: skip
    assert layers["units"]["data"] == "http://twin.example:8000/api/v1/units?level=grid"
    assert layers["buildings"]["data"] == "http://twin.example:8000/tiles/buildings/{z}/{x}/{y}.mvt"
    assert layers["city"]["data"] == "http://twin.example:8000/3dtiles/city/tileset.json"
    for layer in layers.values():  # the key goes as a header, never in a URL
        assert layer["loadOptions"] == {"fetch": {"headers": {"Authorization": "Bearer twin_key"}}}
        assert "twin_key" not in layer["data"]
    assert layers["buildings"]["getFillColor"] == "@@=" + colour_expression("companies")
    assert layers["buildings"]["getElevation"] == "@@=properties.height_m"
    assert "city" not in _layers(twin_deck(tileset=None))


def test_unknown_statistic_or_level_is_named() -> None:
    with pytest.raises(ConfigError, match="statistic 'age'"):
        twin_deck(statistic="age")
    with pytest.raises(ConfigError, match="level 'city'"):
        twin_deck(level="city")


@pytest.mark.db
@pytest.mark.slow
def test_the_server_answers_every_layer(placed_street_url: str, tmp_path: Path) -> None:
    with contextlib.closing(connect(placed_street_url)) as conn:
        build_city_tileset(buildings_from_db(conn), tmp_path / "city")
        lon, lat = conn.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(footprint)) AS c "
            "FROM twin.building) AS t"
        ).fetchone()  # type: ignore[misc]
        conn.rollback()
    key = key_headers(placed_street_url, "planner")["Authorization"][7:]
    settings = TwinSettings(
        db=PostgresSettings(database_url=SecretStr(placed_street_url)),
        models3d=ModelSettings(tilesets_dir=tmp_path),
    )
    layers = _layers(twin_deck("http://testserver", key))
    tile = tile_for(lon, lat, 14)
    with TestClient(create_app(settings)) as client:
        for layer in layers.values():
            url = (
                layer["data"].format(z=tile.z, x=tile.x, y=tile.y).removeprefix("http://testserver")
            )
            res = client.get(url, headers=layer["loadOptions"]["fetch"]["headers"])
            assert res.status_code == 200, (url, res.text[:200])
            assert len(res.content) > 100, url
            assert client.get(url).status_code == 401  # the header is what lets it in
