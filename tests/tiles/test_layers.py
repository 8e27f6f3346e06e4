"""Every layer on a generated street: decoded tiles hold what the database holds there; events
aggregated at low zoom; TileJSON of each layer and the style; ``twin tiles export``."""

from __future__ import annotations

import contextlib
import gzip
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from blocks.coding.service import load_classes
from tests.utils.auth import key_headers
from tests.utils.cli import twin
from tiles.layers import LAYERS
from tiles.tms import TileCoord, tile_for
from twin.db.cluster import LocalCluster
from twin.db.connect import connect
from twin.settings import PostgresSettings, TileSettings, TwinSettings
from twin.synth.run import generate

from ..conftest import TEST_DB, drop_database, fresh_database

pytestmark = pytest.mark.db
DISTRICT, STREET = "440306", "440306017"
#: The buffered tile envelope (64 of 4096 units) in EPSG:3857.
BUFFERED = "ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096)"
PLAIN = "ST_TileEnvelope(%(z)s, %(x)s, %(y)s)"
#: Per layer: the zoom to test at, the feature key, and the rows that reach a tile ({env}).
TRUTH = {
    "districts": (9, "code", "SELECT code FROM twin.admin_unit WHERE level = 'district' AND "
                  "ST_Intersects(ST_Transform(geom, 3857), {env})"),
    "streets": (11, "code", "SELECT code FROM twin.admin_unit WHERE level = 'street' AND "
                "ST_Intersects(ST_Transform(geom, 3857), {env})"),
    "communities": (13, "code", "SELECT code FROM twin.admin_unit WHERE level = 'community' "
                    "AND ST_Intersects(ST_Transform(geom, 3857), {env})"),
    "grids": (14, "code", "SELECT code FROM twin.admin_unit WHERE level = 'grid' AND "
              "ST_Intersects(ST_Transform(geom, 3857), {env})"),
    "buildings": (15, "code", "SELECT code FROM twin.building WHERE "
                  "ST_Intersects(footprint_3857, {env})"),
    "roads": (15, "id", "SELECT id FROM twin.road WHERE "
              "ST_Intersects(ST_Transform(geom, 3857), {env})"),
    "addresses": (17, "code", "SELECT code FROM twin.address WHERE level = 'door' AND "
                  "status <> 'retired' AND ST_Intersects(ST_Transform(geom, 3857), {env})"),
    "entities": (16, "code", "SELECT code FROM twin.geo_entity WHERE status = 'active' AND "
                 "ST_Intersects(ST_Transform(geom, 3857), {env})"),
}  # fmt: skip


@pytest.fixture(scope="module")
def street(pg_cluster: LocalCluster) -> Iterator[dict[str, Any]]:
    """One generated street, one geographic entity, and events placed in two buildings."""
    name = f"{TEST_DB}_tiles"
    conninfo = fresh_database(pg_cluster, name)
    with contextlib.closing(connect(conninfo)) as conn:
        generate(conn, DISTRICT, "small", 2, street=STREET)
        load_classes(conn)
        conn.commit()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # Two buildings of one grid: 7 events in the first, 2 in the second (< 5).
        a, b = conn.execute(
            "SELECT code, grid_code, ST_X(ST_PointOnSurface(footprint)), "
            "ST_Y(ST_PointOnSurface(footprint)) FROM twin.building WHERE grid_code = "
            "(SELECT grid_code FROM twin.building GROUP BY 1 ORDER BY count(*) DESC LIMIT 1) "
            "ORDER BY code LIMIT 2"
        ).fetchall()
        for i, (code, grid, _, _) in enumerate([a] * 7 + [b] * 2):
            conn.execute(
                "INSERT INTO twin.placement (record_kind, record_id, district_code, "
                "street_code, community_code, grid_code, building_code, method, confidence, "
                "band, placed_by) VALUES ('event', %s, %s, %s, %s, %s, %s, 'point', 1, "
                "'accept', 'test')",
                (900_000 + i, DISTRICT, grid[:9], grid[:12], grid, code),
            )
        conn.execute(
            "INSERT INTO twin.geo_entity (code, class_code, name, geom) VALUES "
            "('G4403060170000001', '9101', '公交站', ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
            (a[2], a[3]),
        )
    yield {"conninfo": conninfo, "url": pg_cluster.url(name), "a": a, "b": b}
    drop_database(pg_cluster, name)


@pytest.fixture(scope="module")
def client(street: dict[str, Any]) -> Iterator[TestClient]:
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(street["url"])))
    app = create_app(settings, tiles=TileSettings(invalidate_on_change=False, pool_size=2))
    with TestClient(app, headers=key_headers(street["conninfo"], "planner")) as c:
        yield c


def _decode(res: Any) -> dict[str, Any]:
    assert res.status_code == 200, res.text
    return mapbox_vector_tile.decode(res.content)


def _rows(conninfo: str, query: str, t: TileCoord) -> set[Any]:
    with psycopg.connect(conninfo) as conn:
        return {r[0] for r in conn.execute(query, {"z": t.z, "x": t.x, "y": t.y})}


@pytest.mark.parametrize("layer", sorted(TRUTH))
def test_every_layer_holds_what_the_database_holds_there(
    street: dict[str, Any], client: TestClient, layer: str
) -> None:
    z, key, query = TRUTH[layer]
    t = tile_for(street["a"][2], street["a"][3], z)
    tile = _decode(client.get(f"/tiles/{layer}/{t.z}/{t.x}/{t.y}.mvt"))
    got = {f["properties"][key] for f in tile[layer]["features"]}
    inside = _rows(street["conninfo"], query.format(env=PLAIN), t)
    reach = _rows(street["conninfo"], query.format(env=BUFFERED), t)
    # Everything in the tile is shown; what only reaches into the clipping buffer may be.
    assert got and inside <= got <= reach, (len(inside), len(got), len(reach))
    fields = set().union(*(f["properties"] for f in tile[layer]["features"]))
    assert fields <= set(LAYERS[layer].fields)


def test_layers_combine_in_one_tile(street: dict[str, Any], client: TestClient) -> None:
    t = tile_for(street["a"][2], street["a"][3], 16)
    tile = _decode(client.get(f"/tiles/buildings,roads,grids,events/{t.z}/{t.x}/{t.y}.mvt"))
    assert set(tile) == {"buildings", "roads", "grids", "events"}


def _events(client: TestClient, lon: float, lat: float, z: int) -> dict[str, Any]:
    t = tile_for(lon, lat, z)
    tile = _decode(client.get(f"/tiles/events/{t.z}/{t.x}/{t.y}.mvt"))
    return {f["properties"]["code"]: f["properties"] for f in tile.get("events", {}).get(
        "features", [])}  # fmt: skip


def test_events_are_counted_per_building_grid_or_community_by_zoom(
    street: dict[str, Any], client: TestClient
) -> None:
    (a, grid, lon, lat), b = street["a"], street["b"]
    deep = _events(client, lon, lat, 16)
    assert deep[a] == {"code": a, "events": 7}
    assert b[0] not in deep  # 2 events: withheld from a planner
    mid = _events(client, lon, lat, 13)
    assert mid[grid] == {"code": grid, "level": "grid", "events": 9}
    assert not any(len(code) == 19 for code in mid)  # no building at this zoom
    low = _events(client, lon, lat, 10)
    assert low[grid[:12]] == {"code": grid[:12], "level": "community", "events": 9}


def test_tilejson_of_every_layer_and_a_self_contained_style(client: TestClient) -> None:
    for name, layer in LAYERS.items():
        tj = client.get(f"/tiles/{name}.json").json()
        assert tj["tilejson"] == "3.0.0"
        assert (tj["minzoom"], tj["maxzoom"]) == (layer.minzoom, layer.maxzoom)
        assert tj["vector_layers"][0]["fields"] == layer.fields
        assert tj["tiles"] == [f"http://testserver/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt"]
    style = client.get("/styles/twin.json").json()
    assert set(style["sources"]) == set(LAYERS)
    assert {lyr["source"] for lyr in style["layers"] if "source" in lyr} == set(LAYERS)
    assert "glyphs" not in style and "sprite" not in style
    assert not any(lyr["type"] == "symbol" for lyr in style["layers"])  # no text: no glyphs
    text = str(style)
    assert text.count("http") == text.count("http://testserver/")


def test_twin_tiles_export_writes_a_pmtiles_archive(street: dict[str, Any], tmp_path: Path) -> None:
    from pmtiles.reader import MmapSource, Reader

    lon, lat = street["a"][2], street["a"][3]
    out = tmp_path / "field.pmtiles"
    env = {**os.environ, "DATABASE_URL": street["url"]}
    bbox = f"{lon - 0.005},{lat - 0.005},{lon + 0.005},{lat + 0.005}"
    args = ("tiles", "export", str(out), "--bbox", bbox, "--layers", "buildings,roads",
            "--minzoom", "13", "--maxzoom", "15")  # fmt: skip
    done = twin(env, *args)
    assert done.returncode == 0, done.stderr
    assert "tiles" in done.stdout and str(out) in done.stdout.replace("\n", "")
    t = tile_for(lon, lat, 15)
    with out.open("rb") as fh:
        reader = Reader(MmapSource(fh))
        header = reader.header()
        tile = mapbox_vector_tile.decode(gzip.decompress(reader.get(t.z, t.x, t.y)))
    assert (header["min_zoom"], header["max_zoom"]) == (13, 15)
    assert street["a"][0] in {f["properties"]["code"] for f in tile["buildings"]["features"]}
    bad = twin(env, "tiles", "export", str(tmp_path / "x.pmtiles"), "--bbox", "1,2,3")
    assert bad.returncode == 1 and "--bbox" in bad.stderr + bad.stdout


@pytest.mark.parametrize("z", [12, 13])
def test_encoded_low_zoom_buildings_hold_every_generated_building(
    street: dict[str, Any], client: TestClient, z: int
) -> None:
    # The generator writes in bulk sessions, which leave these tiles to the end of the run.
    t = tile_for(street["a"][2], street["a"][3], z)
    tile = _decode(client.get(f"/tiles/buildings/{t.z}/{t.x}/{t.y}.mvt"))
    query = TRUTH["buildings"][2]
    inside = _rows(street["conninfo"], query.format(env=PLAIN), t)
    reach = _rows(street["conninfo"], query.format(env=BUFFERED), t)
    feats = tile["buildings"]["features"]
    assert len(inside) <= len(feats) <= len(reach) and len(inside) > 100
    if z == 13:
        assert inside <= {f["properties"]["code"] for f in feats} <= reach
