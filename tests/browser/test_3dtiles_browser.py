"""The city tileset loads in the viewer in headless Chromium, and a click names a building.

The generator's ``small`` street of Bao'an (real administrative units, about 550 buildings with
people, companies and events) is written to a database of its own in the test cluster, its city
tileset built, and the API started in a thread (uvicorn on a free port of 127.0.0.1) on that
database and tileset. ``threed_browser.cjs`` drives Debian's ``/usr/bin/chromium`` with
playwright-core (no browser is ever downloaded). Marked ``browser``: with ``CI`` or
``TWIN_STRICT_SKIPS`` set, a missing Chromium, node or viewer build fails the run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from models3d.source import buildings_from_db
from models3d.tiles3d.citymodel import build_city_tileset
from tests.browser.conftest import CHROMIUM, HOST, VIEWER, drive, require_tools, serve
from tests.conftest import TEST_DB, drop_database, fresh_database
from tests.utils.auth import key_headers
from twin.db.cluster import LocalCluster
from twin.db.connect import connect
from twin.settings import ModelSettings, PostgresSettings, TwinSettings
from twin.synth.run import generate

pytestmark = [pytest.mark.browser, pytest.mark.db, pytest.mark.slow]

SCRIPT = Path(__file__).with_name("threed_browser.cjs")
#: The tallest building: its roof, seen from straight above, cannot be hidden by another.
_TALLEST = """
SELECT b.code, ST_X(p), ST_Y(p), b.height_m, b.floors, coalesce(b.use, '')
FROM twin.building AS b
CROSS JOIN LATERAL ST_PointOnSurface(b.footprint) AS p
ORDER BY b.height_m DESC, b.code
LIMIT 1
"""
#: People counted in the tallest building (the generator places nobody: placements do).
PEOPLE = 321


@pytest.fixture(scope="module")
def street(pg_cluster: LocalCluster) -> Iterator[str]:
    """A database holding the generator's ``small`` street of Bao'an; its URL."""
    name = f"{TEST_DB}_browser"
    conninfo = fresh_database(pg_cluster, name)  # migrated, real administrative units
    with contextlib.closing(connect(conninfo)) as conn:
        generate(conn, "440306", "small", 1)
    yield pg_cluster.url(name)
    drop_database(pg_cluster, name)


@pytest.fixture
def server(street: str, tmp_path: Path) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The API on a free port of 127.0.0.1 (in a thread) with the street's city tileset built.

    Yields its base URL and the tallest building: code, lon, lat, height, floors, use.
    """
    tilesets = tmp_path / "3dtiles"
    with contextlib.closing(connect(street)) as conn:
        tallest = conn.execute(_TALLEST).fetchone()
        assert tallest is not None
        conn.execute(
            "INSERT INTO twin.block_counts (code, people) VALUES (%s, %s) "
            "ON CONFLICT (code) DO UPDATE SET people = excluded.people",
            (tallest[0], PEOPLE),
        )
        report = build_city_tileset(buildings_from_db(conn), tilesets / "city")
        conn.rollback()
    assert report.buildings > 100
    settings = TwinSettings(
        db=PostgresSettings(database_url=SecretStr(street), connect_timeout_s=2),
        models3d=ModelSettings(tilesets_dir=tilesets, viewer_dir=VIEWER),
    )
    # The page passes a planner's key with the tileset and every tile request.
    key = key_headers(street, "planner")["Authorization"].removeprefix("Bearer ")
    with serve(settings) as base:
        yield base, (*tallest, key)


def test_city_tileset_loads_and_a_click_names_the_building(
    server: tuple[str, tuple[Any, ...]], tmp_path: Path
) -> None:
    node = require_tools("threed/threed.js")
    base, (code, lon, lat, height, floors, use, key) = server
    shot = tmp_path / "city.png"
    result = drive(
        node,
        SCRIPT,
        {
            "url": f"{base}/viewer/threed/threed.html?tileset=/3dtiles/city/tileset.json"
            f"&api_key={key}",
            "chromium": str(CHROMIUM),
            "userDataDir": str(tmp_path / "chromium-profile"),
            "home": str(tmp_path),
            "screenshot": str(shot),
            "allowedHost": HOST,
            "canary": "http://canary.invalid/ping",
            "target": {"lon": lon, "lat": lat, "height": height},
        },
    )
    assert "failure" not in result, result
    assert result["errors"] == [], result
    assert result["webgl2"] is True
    assert result["tilesLoaded"] > 0
    assert len(code) == 19
    assert result["picked"] == code and code in result["pickedShown"]
    props = result["properties"]  # its row of the tile's property table
    assert props["height_m"] == pytest.approx(height, abs=0.01)
    assert (props["floors"], props["use"], props["people"]) == (floors, use, PEOPLE)
    assert result["pickedElsewhere"] != code  # a click elsewhere does not name it
    # Only the canary, fetched on purpose, tried another host: the log works and nothing else left.
    assert result["offHost"] == ["http://canary.invalid/ping"], result["offHost"]
    assert result["requests"] > 10  # page, bundle, workers, tileset.json, tiles, assets
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
