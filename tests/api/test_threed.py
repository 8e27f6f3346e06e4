"""``/3dtiles``: tilesets built from the database's buildings, served with ETags; ``/viewer``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from models3d.ifc.importer import import_ifc
from models3d.ifc.link import link_building
from models3d.interior import build_interior_tileset
from models3d.source import buildings_from_db, interior_from_db
from models3d.tiles3d.citymodel import build_city_tileset
from models3d.tiles3d.pointcloud import convert_point_cloud
from tests.models3d.conftest import content_tiles, decode_table, glb_parts
from tests.models3d.ifc_builder import build_ifc
from tests.models3d.las_builder import CRS, build_las
from tests.utils.auth import key_headers
from tests.utils.blocks import (
    COMMUNITY,
    GRID,
    X0,
    Y0,
    delete_chain,
    seed_building,
    seed_chain,
)
from twin.settings import ModelSettings, PostgresSettings, TwinSettings

pytestmark = pytest.mark.db
CODES = [f"{GRID}{serial:05d}" for serial in (1, 2, 3)]


@pytest.fixture
def tilesets(db: psycopg.Connection[Any], tmp_path: Path) -> Path:
    """The city tileset of three seeded buildings and the rooms tileset of the first."""
    seed_chain(db)
    for serial in (1, 2, 3):
        seed_building(db, serial, floors=4 * serial)
    root = tmp_path / "3dtiles"
    build_city_tileset(buildings_from_db(db), root / "city")
    build_interior_tileset(interior_from_db(db, CODES[0]), root / "rooms" / CODES[0])
    return root


@pytest.fixture
def client(db_url: str, db_conninfo: str, tilesets: Path, tmp_path: Path) -> Iterator[TestClient]:
    viewer = tmp_path / "viewer"
    (viewer / "threed").mkdir(parents=True)
    (viewer / "threed" / "threed.html").write_text("<!doctype html><title>3D</title>")
    settings = TwinSettings(
        db=PostgresSettings(database_url=SecretStr(db_url), connect_timeout_s=2),
        models3d=ModelSettings(tilesets_dir=tilesets, max_age_s=120, viewer_dir=viewer),
    )
    with TestClient(create_app(settings), headers=key_headers(db_conninfo, "planner")) as c:
        yield c


def test_tileset_and_its_tiles_are_served(client: TestClient, tilesets: Path) -> None:
    res = client.get("/3dtiles/city/tileset.json", headers={"Accept-Encoding": "identity"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/json"
    assert res.headers["cache-control"] == "no-cache"
    assert "content-encoding" not in res.headers
    etag = res.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) == 42  # strong, not W/
    assert res.json()["asset"]["version"] == "1.1"
    ((uri, _, _),) = content_tiles(tilesets / "city" / "tileset.json")
    tile = client.get(f"/3dtiles/city/{uri}", headers={"Accept-Encoding": "identity"})
    assert tile.status_code == 200
    assert tile.headers["content-type"] == "model/gltf-binary"
    assert tile.headers["cache-control"] == "public, max-age=120"
    assert tile.content == (tilesets / "city" / uri).read_bytes()
    glb = tilesets / "served.glb"
    glb.write_bytes(tile.content)
    cols = decode_table(*glb_parts(glb)[:2])
    assert cols["code"] == CODES and cols["floors"] == [4, 8, 12]
    assert cols["height_m"] == [12.0, 24.0, 36.0]


def test_gzip_is_another_representation_with_its_own_etag(
    client: TestClient, tilesets: Path
) -> None:
    ((uri, _, _),) = content_tiles(tilesets / "city" / "tileset.json")
    plain = client.get(f"/3dtiles/city/{uri}", headers={"Accept-Encoding": "identity"})
    packed = client.get(f"/3dtiles/city/{uri}", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert packed.content == plain.content  # httpx decodes the gzip body
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    assert packed.headers["etag"] == plain.headers["etag"][:-1] + '-gz"'
    for accept in ("gzip;q=0.5", "deflate, gzip", "br", "*", "identity"):
        res = client.get(f"/3dtiles/city/{uri}", headers={"Accept-Encoding": accept})
        is_gzip = res.headers.get("content-encoding") == "gzip"
        assert is_gzip == ("gzip" in accept), accept
        assert res.headers["etag"] == (packed if is_gzip else plain).headers["etag"], accept


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_if_none_match_gives_304(client: TestClient, encoding: str) -> None:
    url, accept = "/3dtiles/city/tileset.json", {"Accept-Encoding": encoding}
    first = client.get(url, headers=accept)
    etag = first.headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(url, headers={**accept, "If-None-Match": header})
        assert again.status_code == 304, header
        assert again.content == b"" and again.headers["etag"] == etag
    other = client.get(url, headers={**accept, "If-None-Match": '"other"'})
    assert other.status_code == 200 and other.content == first.content
    head = client.head(url, headers=accept)
    assert head.status_code == 200 and head.headers["etag"] == etag
    assert head.headers["content-length"] == first.headers["content-length"]


def test_a_rebuild_changes_the_etag_of_the_changed_tile(
    client: TestClient, db: psycopg.Connection[Any], tilesets: Path
) -> None:
    ((uri, _, _),) = content_tiles(tilesets / "city" / "tileset.json")
    old = client.get(f"/3dtiles/city/{uri}").headers["etag"]
    assert old.endswith('-gz"')  # the test client takes gzip
    db.execute("UPDATE twin.building SET height_m = 50 WHERE code = %s", (CODES[1],))
    report = build_city_tileset(buildings_from_db(db), tilesets / "city")
    assert report.written == 1
    res = client.get(f"/3dtiles/city/{uri}", headers={"If-None-Match": old})
    assert res.status_code == 200 and res.headers["etag"] != old
    (tilesets / "new.glb").write_bytes(res.content)
    assert decode_table(*glb_parts(tilesets / "new.glb")[:2])["height_m"][1] == 50.0


def test_nested_tilesets_and_the_catalogue(client: TestClient) -> None:
    names = [t["name"] for t in client.get("/3dtiles").json()["tilesets"]]
    assert names == ["city", f"rooms/{CODES[0]}"]
    res = client.get(f"/3dtiles/rooms/{CODES[0]}/tileset.json")
    assert res.status_code == 200
    uri = res.json()["root"]["content"]["uri"]
    tile = client.get(f"/3dtiles/rooms/{CODES[0]}/{uri}")
    assert tile.status_code == 200 and tile.headers["content-type"] == "model/gltf-binary"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/3dtiles/city/%2e%2e/%2e%2e/%2e%2e/etc/passwd", 400),
        ("/3dtiles/city/..%2F..%2Fmanifest.json", 400),
        ("/3dtiles//etc/passwd", 400),
        ("/3dtiles/city/tiles/%2E%2E", 400),
        ("/3dtiles/city/./tileset.json".replace(".", "%2e", 1), 400),
        ("/3dtiles/city/.hidden", 400),
        ("/3dtiles/city/a%5C..%5Cb", 400),
        ("/3dtiles/city/ti%00les", 400),
        ("/3dtiles/nowhere/tileset.json", 404),
        ("/3dtiles/city/tiles/0/0/0.glb", 404),
        ("/3dtiles/city/tiles", 404),
        ("/3dtiles/city", 404),
        ("/viewer/%2e%2e/3dtiles/city/tileset.json", 400),
        ("/viewer/threed/missing.js", 404),
    ],
)
def test_bad_paths_get_a_json_detail(client: TestClient, path: str, status: int) -> None:
    res = client.get(path)
    assert res.status_code == status, res.text
    assert res.headers["content-type"] == "application/json"
    detail = res.json()["detail"]
    assert isinstance(detail, str) and detail
    assert "root:" not in res.text  # never a file's content


def test_a_link_out_of_the_folder_is_refused(client: TestClient, tilesets: Path) -> None:
    secret = tilesets.parent / "secret.json"
    secret.write_text(json.dumps({"password": "x"}))
    (tilesets / "city" / "leak.json").symlink_to(secret)
    res = client.get("/3dtiles/city/leak.json")
    assert res.status_code == 400 and "password" not in res.text
    assert "leads outside" in res.json()["detail"]


def test_content_types(client: TestClient, tilesets: Path) -> None:
    for name in ("0.pnts", "0.subtree", "0.b3dm"):
        (tilesets / "city" / name).write_bytes(b"\0\1")
        res = client.get(f"/3dtiles/city/{name}")
        assert res.headers["content-type"] == "application/octet-stream", name
    page = client.get("/viewer/threed/threed.html")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert "ETag" in page.headers


def test_openapi_lists_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/3dtiles", "/3dtiles/{path}", "/viewer/{path}", "/api/v1/models"} <= paths.keys()


def test_imported_models_are_listed_where_they_stand_within_the_key_scope(
    db: psycopg.Connection[Any], db_conninfo: str, client: TestClient, tilesets: Path
) -> None:
    """A BIM model linked to a building, one far away, and a point cloud: listed with their
    place, each fetchable; a grid worker sees only those in its community."""
    assert client.get("/api/v1/models").json() == {"models": []}
    try:
        _check_models(db, db_conninfo, client, tilesets)
    finally:  # the API reads the units on its own connection: they were committed
        db.rollback()
        # Keys are revoked, never deleted: the test's scoped keys let go of the units instead.
        db.execute(
            "UPDATE twin.api_key SET role = 'planner', scope_code = NULL, revoked_at = now() "
            "WHERE scope_code LIKE %s",
            (f"{COMMUNITY[:9]}%",),
        )
        delete_chain(db)
        db.commit()


def _check_models(
    db: psycopg.Connection[Any], db_conninfo: str, client: TestClient, tilesets: Path
) -> None:
    house = build_ifc(tilesets.parent / "house.ifc", site_latlon=(Y0 + 0.005, X0 + 0.005))
    import_ifc(house, tilesets / "bim" / "house",
               link=lambda st, sp: link_building(db, house.name, CODES[0], st, sp))  # fmt: skip
    db.execute("INSERT INTO twin.admin_unit (code, level, name, parent_code) "
               "VALUES ('440306017002', 'community', '别处', %s)", (COMMUNITY[:9],))  # fmt: skip
    db.commit()
    far = build_ifc(tilesets.parent / "far.ifc", site_latlon=(22.7, 114.2))
    import_ifc(far, tilesets / "bim" / "far")
    cloud = build_las(tilesets.parent / "cloud.las", X0 + 0.002, Y0 + 0.003, points=5_000)
    convert_point_cloud(cloud, tilesets / "pointcloud" / "cloud", CRS)
    (tilesets / "bim" / ".staging").mkdir()  # hidden folders are never listed
    listed = client.get("/api/v1/models").json()["models"]
    assert [(m["kind"], m["name"]) for m in listed] == [
        ("bim", "far"), ("bim", "house"), ("pointcloud", "cloud"),
    ]  # fmt: skip
    by_name = {m["name"]: m for m in listed}
    assert by_name["house"]["building"] == CODES[0] and by_name["house"]["community"] == COMMUNITY
    assert by_name["far"]["building"] is None and by_name["far"]["community"] is None
    assert by_name["cloud"]["building"] is None and by_name["cloud"]["community"] == COMMUNITY
    # Centres where the files put them: the house's 12 × 8 m near its site, the cloud's 60 m square.
    assert by_name["house"]["lon"] == pytest.approx(X0 + 0.005, abs=1e-4)
    assert by_name["house"]["lat"] == pytest.approx(Y0 + 0.005, abs=1e-4)
    assert 5 < by_name["house"]["radius_m"] < 20
    assert by_name["cloud"]["lon"] == pytest.approx(X0 + 0.002, abs=1e-5)
    assert by_name["cloud"]["lat"] == pytest.approx(Y0 + 0.003, abs=1e-5)
    assert 40 < by_name["cloud"]["radius_m"] < 60 and 5 < by_name["cloud"]["height_m"] < 35
    for m in listed:
        assert m["url"] == f"/3dtiles/{m['kind']}/{m['name']}/tileset.json"
        assert client.get(m["url"]).status_code == 200
    kinds = client.get("/api/v1/models", params={"kind": "pointcloud"}).json()["models"]
    assert [m["name"] for m in kinds] == ["cloud"]
    assert client.get("/api/v1/models", params={"kind": "mesh"}).status_code == 422
    worker = key_headers(db_conninfo, "grid_worker", scope=COMMUNITY, name="w")
    mine = client.get("/api/v1/models", headers=worker).json()["models"]
    assert [m["name"] for m in mine] == ["house", "cloud"]
    other = key_headers(db_conninfo, "grid_worker", scope="440306017002", name="o")
    assert client.get("/api/v1/models", headers=other).json()["models"] == []
    assert client.get("/api/v1/models", headers={"Authorization": ""}).status_code == 401


def test_doctests() -> None:
    import doctest

    import api.routes.threed
    import models3d.tiles3d.catalogue

    for module in (api.routes.threed, models3d.tiles3d.catalogue):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module
