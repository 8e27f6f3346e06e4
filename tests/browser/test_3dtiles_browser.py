"""The city tileset loads in the viewer in headless Chromium, and a click names a building.

The API runs in a thread (uvicorn on a free port of 127.0.0.1) on the test database, serving the
tileset built from seeded buildings; ``threed_browser.cjs`` drives Debian's ``/usr/bin/chromium``
with playwright-core (no browser is ever downloaded). Marked ``browser``: with ``CI`` or
``TWIN_STRICT_SKIPS`` set, a missing Chromium, node or viewer build fails the run.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from pydantic import SecretStr

from api.main import create_app
from models3d.source import buildings_from_db
from models3d.tiles3d.citymodel import build_city_tileset
from tests.utils.blocks import GRID, X0, Y0, delete_chain, seed_building, seed_chain
from twin.settings import ModelSettings, PostgresSettings, TwinSettings

pytestmark = [pytest.mark.browser, pytest.mark.db, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
NODE_MODULES = ROOT / "web" / "node_modules"
VIEWER = ROOT / "web" / "dist"
SCRIPT = Path(__file__).with_name("threed_browser.cjs")
HOST = "127.0.0.1"
#: The building the test clicks: the tallest of the row, in the middle.
TARGET_SERIAL, TARGET_FLOORS = 5, 20


def _require_tools() -> str:
    """Return node's path; skip (a failure under TWIN_STRICT_SKIPS) when a tool is missing."""
    node = shutil.which("node")
    missing = [
        what
        for what, ok in [
            ("Chromium (/usr/bin/chromium: make system-deps)", CHROMIUM.is_file()),
            ("node (make system-deps)", node is not None),
            ("playwright-core (make web-deps)", (NODE_MODULES / "playwright-core").is_dir()),
            ("the viewer build (make web-deps)", (VIEWER / "threed" / "threed.js").is_file()),
        ]
        if not ok
    ]
    if missing or node is None:
        pytest.skip("missing: " + ", ".join(missing))
    return node


@pytest.fixture
def tilesets(db_conninfo: str, tmp_path: Path) -> Iterator[Path]:
    """Nine buildings in a row (the fifth 60 m tall) in the database and their city tileset."""
    root = tmp_path / "3dtiles"
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        seed_chain(conn)
        for serial in range(1, 10):
            seed_building(conn, serial, TARGET_FLOORS if serial == TARGET_SERIAL else 4 + serial)
    with psycopg.connect(db_conninfo) as conn:
        build_city_tileset(buildings_from_db(conn), root / "city")
    yield root
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        delete_chain(conn)


@pytest.fixture
def server(db_url: str, tilesets: Path) -> Iterator[str]:
    """The API on a free port of 127.0.0.1, in a thread; its base URL."""
    settings = TwinSettings(
        db=PostgresSettings(database_url=SecretStr(db_url), connect_timeout_s=2),
        models3d=ModelSettings(tilesets_dir=tilesets, viewer_dir=VIEWER),
    )
    sock = socket.socket()
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    yield f"http://{HOST}:{port}"
    uv.should_exit = True
    thread.join(timeout=30)
    sock.close()


def _drive(node: str, opts: dict[str, Any]) -> dict[str, Any]:
    run = subprocess.run(
        [node, str(SCRIPT), json.dumps(opts)],
        env={"NODE_PATH": str(NODE_MODULES), "PATH": "/usr/bin:/bin", "HOME": opts["home"]},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def test_city_tileset_loads_and_a_click_names_the_building(server: str, tmp_path: Path) -> None:
    node = _require_tools()
    code = f"{GRID}{TARGET_SERIAL:05d}"
    x, y = X0 + 0.001 * TARGET_SERIAL + 0.0001, Y0 + 0.001 + 0.0001  # seed_building's centre
    shot = tmp_path / "city.png"
    result = _drive(
        node,
        {
            "url": f"{server}/viewer/threed/threed.html?tileset=/3dtiles/city/tileset.json",
            "chromium": str(CHROMIUM),
            "userDataDir": str(tmp_path / "chromium-profile"),
            "home": str(tmp_path),
            "screenshot": str(shot),
            "allowedHost": HOST,
            "canary": "http://canary.invalid/ping",
            "target": {"lon": x, "lat": y, "height": TARGET_FLOORS * 3.0},
        },
    )
    assert "failure" not in result, result
    assert result["errors"] == [], result
    assert result["webgl2"] is True
    assert result["tilesLoaded"] > 0
    assert result["picked"] == code and result["pickedShown"] == code
    assert result["pickedGround"] is None  # a click beside it names no building
    # Only the canary, fetched on purpose, tried another host: the log works and nothing else left.
    assert result["offHost"] == ["http://canary.invalid/ping"], result["offHost"]
    assert result["requests"] > 10  # page, bundle, workers, tileset.json, tiles, assets
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
