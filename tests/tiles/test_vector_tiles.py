"""Vector tiles from PostGIS: decoded and compared with the database; cache, ETag, privacy."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from typing import Any

import mapbox_vector_tile
import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from tests.utils.auth import key_headers
from tests.utils.server import ReadyClient
from tiles.tms import tile_for
from twin.settings import PostgresSettings, TileSettings, TwinSettings

pytestmark = pytest.mark.db

# A 1 km square community in Bao'an with two buildings ~600 m apart.
CX, CY = 113.885, 22.555
SQUARE = (
    f"POLYGON(({CX} {CY}, {CX + 0.01} {CY}, {CX + 0.01} {CY + 0.01}, {CX} {CY + 0.01}, {CX} {CY}))"
)


def _box(lon: float, lat: float, d: float = 0.0003) -> str:
    ring = f"{lon} {lat}, {lon + d} {lat}, {lon + d} {lat + d}, {lon} {lat + d}, {lon} {lat}"
    return f"MULTIPOLYGON((({ring})))"


B1 = (CX + 0.001, CY + 0.001)
B2 = (CX + 0.008, CY + 0.008)


@pytest.fixture(scope="module")
def seeded(db_conninfo: str) -> Iterator[str]:
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        conn.execute("SELECT set_config('twin.bulk', 'on', false)")
        for code, level, parent in [
            ("440306", "district", None),
            ("440306001", "street", "440306"),
            ("440306001001", "community", "440306001"),
            ("44030600100101", "grid", "440306001001"),
        ]:
            conn.execute(
                "INSERT INTO twin.admin_unit (code, level, name, parent_code, geom) VALUES "
                "(%s, %s, %s, %s, ST_Multi(ST_GeomFromText(%s, 4326)))",
                (code, level, f"单元{code}", parent, SQUARE),
            )
        for serial, (lon, lat) in enumerate((B1, B2), start=1):
            conn.execute(
                "INSERT INTO twin.building (code, grid_code, name, footprint, floors, "
                "height_m, use) VALUES (%s, '44030600100101', %s, "
                "ST_GeomFromText(%s, 4326), 10, 30, 'residential')",
                (f"4403060010010100{serial:03d}", f"{serial}栋", _box(lon, lat)),
            )
        # Another community (no outline), the scope of a grid worker who is not from here.
        conn.execute(
            "INSERT INTO twin.admin_unit (code, level, name, parent_code) "
            "VALUES ('440306001002', 'community', '别的社区', '440306001')"
        )
        # A bulk session (twin.bulk) leaves the encoded low zooms to its end, as the
        # generator does.
        conn.execute("SELECT twin.encode_stale_building_layers()")
        # Three people in building 1: below the default privacy threshold of 5.
        for rid in range(1, 4):
            conn.execute(
                "INSERT INTO twin.placement (record_kind, record_id, district_code, "
                "street_code, community_code, grid_code, building_code, method, "
                "confidence, band, placed_by) VALUES ('person', %s, '440306', "
                "'440306001', '440306001001', '44030600100101', '4403060010010100001', "
                "'code', 1, 'accept', 'test')",
                (rid,),
            )
    yield db_conninfo
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        # Keys are revoked, never deleted: revoke the scoped ones and free their units.
        conn.execute(
            "UPDATE twin.api_key SET revoked_at = now(), role = 'planner', scope_code = NULL "
            "WHERE scope_code LIKE '440306001%'"
        )
        for table in ("placement", "block_counts", "building", "admin_unit"):
            conn.execute(f"DELETE FROM twin.{table}")


def _client(
    db_url: str, threshold: int = 5, role: str = "planner", scope: str | None = None
) -> ReadyClient:
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(db_url)))
    app = create_app(settings, tiles=TileSettings(privacy_threshold=threshold, pool_size=2))
    return ReadyClient(app, headers=key_headers(db_url, role, scope))


def _decode(res: Any) -> dict[str, Any]:
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(res.content)


def _features(tile: dict[str, Any], layer: str) -> dict[str, dict[str, Any]]:
    return {f["properties"]["code"]: f["properties"] for f in tile[layer]["features"]}


def test_buildings_tile_matches_the_database(seeded: str, db_url: str) -> None:
    t = tile_for(*B1, 15)
    with _client(db_url) as client:
        tile = _decode(client.get(f"/tiles/buildings/{t.z}/{t.x}/{t.y}.mvt"))
    feats = _features(tile, "buildings")
    with psycopg.connect(seeded) as conn:
        rows = conn.execute(
            "SELECT code, floors, height_m FROM twin.building WHERE footprint && "
            "ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
            t.bounds_4326(),
        ).fetchall()
    assert {r[0] for r in rows} == set(feats)
    for code, floors, height in rows:
        assert feats[code]["floors"] == floors
        assert feats[code]["height_m"] == pytest.approx(height)


def test_layers_combine_and_counts_are_suppressed_below_the_threshold(
    seeded: str, db_url: str
) -> None:
    t = tile_for(*B1, 15)
    with _client(db_url, threshold=5) as client:
        tile = _decode(client.get(f"/tiles/buildings,grids/{t.z}/{t.x}/{t.y}.mvt"))
    assert set(tile) == {"buildings", "grids"}
    b1 = _features(tile, "buildings")["4403060010010100001"]
    assert "people" not in b1  # 3 people < 5: withheld
    with _client(db_url, threshold=0) as client:
        tile = _decode(client.get(f"/tiles/buildings,grids/{t.z}/{t.x}/{t.y}.mvt"))
    assert _features(tile, "buildings")["4403060010010100001"]["people"] == 3
    assert _features(tile, "grids")["44030600100101"]["people"] == 3


def test_gzip_etag_and_304(seeded: str, db_url: str) -> None:
    t = tile_for(*B1, 16)
    url = f"/tiles/buildings/{t.z}/{t.x}/{t.y}.mvt"
    with _client(db_url) as client:
        first = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert first.status_code == 200 and first.headers["x-tile-cache"] == "miss"
        etag = first.headers["etag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["x-tile-cache"] == "hit"
        # A tile depends on the caller's view: browsers may keep it, shared caches may not.
        assert again.headers["cache-control"].startswith("private, max-age=")
        odd = client.get(url, headers={"If-None-Match": 'garbage,,"x'})
        assert odd.status_code == 200
    raw = gzip.decompress(first.content) if first.content[:2] == b"\x1f\x8b" else first.content
    assert "buildings" in mapbox_vector_tile.decode(raw)


def _wait_for_generation(client: TestClient, before: int) -> None:
    cache = client.app.state.tile_cache  # type: ignore[attr-defined]
    deadline = time.monotonic() + 5
    while cache.generation == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert cache.generation > before, "no change notification arrived"


def test_a_change_invalidates_only_the_tiles_under_it(seeded: str, db_url: str) -> None:
    t1, t2 = tile_for(*B1, 17), tile_for(*B2, 17)
    assert t1 != t2
    u1 = f"/tiles/buildings/{t1.z}/{t1.x}/{t1.y}.mvt"
    u2 = f"/tiles/buildings/{t2.z}/{t2.x}/{t2.y}.mvt"
    with _client(db_url) as client:
        deadline = time.monotonic() + 5
        while not client.app.state.tiles_ready.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (
            _features(_decode(client.get(u1)), "buildings")["4403060010010100001"]["floors"] == 10
        )
        _decode(client.get(u2))
        assert client.get(u1).headers["x-tile-cache"] == "hit"
        before = client.app.state.tile_cache.generation
        with psycopg.connect(seeded, autocommit=True) as conn:
            conn.execute("UPDATE twin.building SET floors = 33 WHERE code = '4403060010010100001'")
        try:
            _wait_for_generation(client, before)
            res = client.get(u1)
            assert res.headers["x-tile-cache"] == "miss"
            assert _features(_decode(res), "buildings")["4403060010010100001"]["floors"] == 33
            assert client.get(u2).headers["x-tile-cache"] == "hit"
        finally:
            with psycopg.connect(seeded, autocommit=True) as conn:
                conn.execute(
                    "UPDATE twin.building SET floors = 10 WHERE code = '4403060010010100001'"
                )


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/tiles/nosuch/15/0/0.mvt", 404),
        ("/tiles/buildings/15/99999/0.mvt", 400),
        ("/tiles/buildings/40/0/0.mvt", 422),
        ("/tiles/buildings/a/b/c.mvt", 422),
        ("/tiles/buildings/-1/0/0.mvt", 422),
        ("/tiles/nosuch.json", 404),
        ("/tiles/buildings,nosuch/15/0/0.mvt", 404),
        ("/tiles/" + "buildings," * 30 + "/15/0/0.mvt", 422),
        ("/tiles/buildings/15/0/0.mvt?api_key=", 401),
    ],
)
def test_bad_requests_get_json_4xx(seeded: str, db_url: str, url: str, status: int) -> None:
    with _client(db_url) as client:
        # A good request first: the key is then known to the fast path, which must still
        # leave every bad request to the application's JSON errors.
        assert client.get("/tiles/buildings/15/0/0.mvt").status_code == 200
        headers = {"Authorization": ""} if status == 401 else {}
        res = client.get(url, headers=headers)
    assert res.status_code == status, res.text
    assert "detail" in res.json()


def test_oversized_if_none_match_is_refused_even_for_a_cached_tile(
    seeded: str, db_url: str
) -> None:
    t = tile_for(*B1, 16)
    url = f"/tiles/buildings/{t.z}/{t.x}/{t.y}.mvt"
    with _client(db_url) as client:
        assert client.get(url).status_code == 200
        assert client.get(url).headers["x-tile-cache"] == "hit"
        res = client.get(url, headers={"If-None-Match": '"x",' * 400})
    assert res.status_code == 422 and "detail" in res.json()


@pytest.mark.parametrize(
    ("role", "scope", "people"),
    [
        ("planner", None, None),  # 3 < 5: withheld
        ("system", None, None),
        ("supervisor", None, 3),  # may see individuals: exact
        ("admin", None, 3),
        ("grid_worker", "440306001001", 3),  # their own community: exact
        ("grid_worker", "44030600100101", 3),  # their own grid
        ("grid_worker", "440306001002", None),  # another community: as a planner
    ],
)
def test_counts_per_role_and_scope(
    seeded: str, db_url: str, role: str, scope: str | None, people: int | None
) -> None:
    t = tile_for(*B1, 15)
    with _client(db_url, role=role, scope=scope) as client:
        tile = _decode(client.get(f"/tiles/buildings,grids/{t.z}/{t.x}/{t.y}.mvt"))
        again = client.get(f"/tiles/buildings,grids/{t.z}/{t.x}/{t.y}.mvt")
    assert again.headers["x-tile-cache"] == "hit"
    assert mapbox_vector_tile.decode(again.content) == tile
    assert _features(tile, "buildings")["4403060010010100001"].get("people") == people
    assert _features(tile, "grids")["44030600100101"].get("people") == people


def test_the_fast_path_keeps_keys_and_views_apart(seeded: str, db_url: str) -> None:
    t = tile_for(*B1, 15)
    url = f"/tiles/buildings/{t.z}/{t.x}/{t.y}.mvt"
    with _client(db_url) as client:  # a planner
        assert (
            "people" not in _features(_decode(client.get(url)), "buildings")["4403060010010100001"]
        )
        assert client.get(url).headers["x-tile-cache"] == "hit"
        # The cached tile is not for everyone: no key, an unknown key, a revoked-like key.
        assert client.get(url, headers={"Authorization": ""}).status_code == 401
        bad = {"Authorization": "Bearer twin_000000000000_" + "A" * 43}
        assert client.get(url, headers=bad).status_code == 401
        # A supervisor asking for the same tile gets their own view, built for them.
        sup = key_headers(db_url, "supervisor")
        res = client.get(url, headers=sup)
        assert res.headers["x-tile-cache"] == "miss"
        assert _features(_decode(res), "buildings")["4403060010010100001"]["people"] == 3
        head = client.head(url, headers=sup)
        assert head.status_code == 200 and head.headers["x-tile-cache"] == "hit"
        assert head.content == b""


def test_low_zoom_buildings_follow_changes_through_their_pre_cut_table(
    seeded: str, db_url: str
) -> None:
    z13 = tile_for(*B1, 13)
    url = f"/tiles/buildings/{z13.z}/{z13.x}/{z13.y}.mvt"
    with _client(db_url) as client:
        feats = _features(_decode(client.get(url)), "buildings")
        assert set(feats) == {"4403060010010100001", "4403060010010100002"}
        assert set(feats["4403060010010100001"]) == {"code", "height_m"}  # trimmed
        z12 = tile_for(*B1, 12)
        low = _decode(client.get(f"/tiles/buildings/{z12.z}/{z12.x}/{z12.y}.mvt"))
        assert [set(f["properties"]) for f in low["buildings"]["features"]] == [{"height_m"}] * 2
        before = client.app.state.tile_cache.generation  # type: ignore[attr-defined]
        with psycopg.connect(seeded, autocommit=True) as conn:
            conn.execute(
                "UPDATE twin.building SET height_m = 99 WHERE code = '4403060010010100001'"
            )
        try:
            _wait_for_generation(client, before)
            res = client.get(url)
            assert res.headers["x-tile-cache"] == "miss"
            assert _features(_decode(res), "buildings")["4403060010010100001"]["height_m"] == 99
        finally:
            with psycopg.connect(seeded, autocommit=True) as conn:
                conn.execute(
                    "UPDATE twin.building SET height_m = 30 WHERE code = '4403060010010100001'"
                )


def test_bulk_sessions_keep_the_pre_cut_table(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        # As the generator's sessions: no ordinary triggers, no audit, many statements.
        conn.execute("SET session_replication_role = replica")
        conn.execute("SELECT set_config('twin.bulk', 'on', true)")
        conn.execute(
            "INSERT INTO twin.building (code, grid_code, footprint, floors, height_m) VALUES "
            "('4403060010010100003', '44030600100101', ST_GeomFromText(%s, 4326), 3, 9)",
            (_box(CX + 0.004, CY + 0.004),),
        )
        zooms = conn.execute(
            "SELECT array_agg(DISTINCT z ORDER BY z) FROM twin.building_tile "
            "WHERE code = '4403060010010100003'"
        ).fetchone()
        assert zooms == ([12, 13, 14, 15, 16],)
        # The encoded low zooms wait for the end of the bulk load...
        assert len(_encoded(conn, 12)) == 2
        assert conn.execute("SELECT count(*) FROM twin.building_layer_stale").fetchone() == (2,)
        # ... which encodes each stale tile once.
        assert conn.execute("SELECT twin.encode_stale_building_layers()").fetchone() == (2,)
        assert len(_encoded(conn, 12)) == 3
        assert conn.execute("SELECT count(*) FROM twin.building_layer_stale").fetchone() == (0,)
        conn.rollback()


def test_rate_limits_hold_for_cached_tiles(seeded: str, db_url: str) -> None:
    from twin.keys import create_key

    with psycopg.connect(seeded) as conn:
        key, _ = create_key(
            conn, name="slow system", role="system", created_by="tests", rate_per_minute=3
        )
    t = tile_for(*B1, 16)
    url = f"/tiles/buildings/{t.z}/{t.x}/{t.y}.mvt"
    with _client(db_url) as client:
        headers = {"Authorization": f"Bearer {key}"}
        got = [client.get(url, headers=headers) for _ in range(4)]
    assert [r.status_code for r in got] == [200, 200, 200, 429]
    assert got[2].headers["x-tile-cache"] == "hit"
    assert "rate limit" in got[3].json()["detail"]


def test_a_tile_query_that_runs_too_long_is_cut_off_with_a_503(seeded: str, db_url: str) -> None:
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(db_url)))
    tiles = TileSettings(statement_timeout_ms=300, pool_size=1, invalidate_on_change=False)
    t = tile_for(*B2, 17)
    url = f"/tiles/buildings/{t.z}/{t.x}/{t.y}.mvt"
    with (
        TestClient(create_app(settings, tiles=tiles), headers=key_headers(db_url)) as client,
        psycopg.connect(seeded) as blocker,
    ):
        assert client.get("/tiles/buildings/15/0/0.mvt").status_code == 200  # key now known
        blocker.execute("LOCK TABLE twin.building IN ACCESS EXCLUSIVE MODE")
        clock = time.monotonic()
        res = client.get(url)
        blocker.rollback()
        assert res.status_code == 503 and "database" in res.json()["detail"]
        assert time.monotonic() - clock < 5
        assert client.get(url).status_code == 200  # and it serves again


def _encoded(conn: psycopg.Connection[Any], z: int) -> list[dict[str, Any]]:
    t = tile_for(*B1, z)
    row = conn.execute(
        "SELECT mvt FROM twin.building_layer_tile WHERE z = %s AND x = %s AND y = %s",
        (t.z, t.x, t.y),
    ).fetchone()
    return [] if row is None else mapbox_vector_tile.decode(row[0])["buildings"]["features"]


def test_encoded_low_zoom_layers_follow_inserts_updates_and_deletes(seeded: str) -> None:
    code = "4403060010010100004"
    with psycopg.connect(seeded) as conn:
        assert len(_encoded(conn, 12)) == 2
        conn.execute(
            "INSERT INTO twin.building (code, grid_code, footprint, floors, height_m) VALUES "
            "(%s, '44030600100101', ST_GeomFromText(%s, 4326), 3, 9)",
            (code, _box(CX + 0.005, CY + 0.005)),
        )
        assert len(_encoded(conn, 12)) == 3
        assert code in {f["properties"]["code"] for f in _encoded(conn, 13)}
        # A change that no low zoom shows rewrites nothing; a new height is re-encoded.
        where = "SELECT array_agg(ctid ORDER BY z) FROM twin.building_tile WHERE code = %s"
        rows = conn.execute(where, (code,)).fetchone()
        conn.execute("UPDATE twin.building SET floors = 4 WHERE code = %s", (code,))
        assert conn.execute(where, (code,)).fetchone() == rows  # the same row versions
        conn.execute("UPDATE twin.building SET height_m = 12 WHERE code = %s", (code,))
        heights = {f["properties"].get("code"): f["properties"]["height_m"] for f in _encoded(
            conn, 13)}  # fmt: skip
        assert heights[code] == 12
        conn.execute("DELETE FROM twin.building WHERE code = %s", (code,))
        assert len(_encoded(conn, 12)) == 2
        conn.rollback()
