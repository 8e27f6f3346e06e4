"""TileJSON ``bounds`` and ``center`` from the data: each layer's extent in PostGIS, cached
until the layer's tables change, Shenzhen's box only while a layer has no rows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr

from api.main import create_app
from tests.utils.auth import key_headers
from tests.utils.server import ReadyClient
from tests.utils.tiles import BUILDING_SIDE, CX, CY, SIDE, add_building, add_units
from tiles.cache import TileCache
from tiles.extent import MIN_SPAN_DEG, LayerExtents
from tiles.layers import LAYERS
from tiles.service import new_cache
from tiles.tilejson import DEFAULT_BOUNDS
from twin.settings import PostgresSettings, TileSettings, TwinSettings

pytestmark = pytest.mark.db


def _write(conninfo: str, *statements: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def test_an_extent_is_computed_once_and_again_only_when_its_tables_change(
    blank_db: dict[str, str],
) -> None:
    conninfo = blank_db["conninfo"]
    cache: TileCache = new_cache()
    extents = LayerExtents(cache)
    lent: list[int] = []

    @asynccontextmanager
    async def lend() -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        lent.append(1)
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            yield conn

    def bounds(layer: str) -> tuple[float, float, float, float]:
        return asyncio.run(extents.bounds(lend, LAYERS[layer]))

    # No building yet: Shenzhen's box, from one query.
    assert bounds("buildings") == DEFAULT_BOUNDS and len(lent) == 1
    with psycopg.connect(conninfo, autocommit=True) as conn:
        add_units(conn)
        add_building(conn, 1, CX + 0.001, CY + 0.001)
    # Until the cache hears of the change the extent stays (and costs no query), whatever
    # else changes.
    cache.invalidate("road", (CX, CY, CX + 1, CY + 1))
    assert bounds("buildings") == DEFAULT_BOUNDS and len(lent) == 1
    cache.invalidate("building", (CX, CY, CX + 1, CY + 1))
    # One small building: its box, widened to the smallest span around its centre.
    west, south, east, north = bounds("buildings")
    assert len(lent) == 2
    mid = CX + 0.001 + BUILDING_SIDE / 2
    assert (west, east) == pytest.approx((mid - MIN_SPAN_DEG / 2, mid + MIN_SPAN_DEG / 2))
    assert bounds("buildings") == (west, south, east, north) and len(lent) == 2
    with psycopg.connect(conninfo, autocommit=True) as conn:
        add_building(conn, 2, CX + 0.008, CY + 0.006)
    cache.clear()  # as the listener does when it reconnects
    assert bounds("buildings") == pytest.approx(
        (CX + 0.001, CY + 0.001, CX + 0.008 + BUILDING_SIDE, CY + 0.006 + BUILDING_SIDE)
    )
    assert len(lent) == 3
    # The admin layers are filtered by level; a layer with nothing in it keeps the default.
    assert bounds("grids") == pytest.approx((CX, CY, CX + SIDE, CY + SIDE))
    assert bounds("roads") == DEFAULT_BOUNDS
    _write(conninfo, "DELETE FROM twin.building", "DELETE FROM twin.admin_unit")


def _until(check: Any, timeout_s: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_tilejson_bounds_and_centre_follow_the_data(blank_db: dict[str, str]) -> None:
    conninfo = blank_db["conninfo"]
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(blank_db["url"])))
    app = create_app(settings, tiles=TileSettings(pool_size=2))
    with ReadyClient(app, headers=key_headers(conninfo, "planner")) as client:

        def tilejson(layer: str) -> dict[str, Any]:
            res = client.get(f"/tiles/{layer}.json")
            assert res.status_code == 200, res.text
            doc: dict[str, Any] = res.json()
            return doc

        empty = tilejson("buildings")
        assert tuple(empty["bounds"]) == DEFAULT_BOUNDS
        with psycopg.connect(conninfo, autocommit=True) as conn:
            add_units(conn)
            add_building(conn, 1, CX + 0.002, CY + 0.003)
            add_building(conn, 2, CX + 0.007, CY + 0.004)
        box = (CX + 0.002, CY + 0.003, CX + 0.007 + BUILDING_SIDE, CY + 0.004 + BUILDING_SIDE)
        # The change notification reaches the cache; the next document has the new extent.
        doc = _until(lambda: (d := tilejson("buildings"))["bounds"] != list(DEFAULT_BOUNDS) and d)
        assert doc["bounds"] == pytest.approx(box)
        lon, lat, zoom = doc["center"]
        assert (lon, lat) == pytest.approx(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
        # About 500 m across: zoom 16 shows it in one tile; the layer's own zooms bound it.
        assert zoom == 16
        assert tilejson("districts")["bounds"] == pytest.approx((CX, CY, CX + SIDE, CY + SIDE))
        assert tilejson("districts")["center"][2] == 15
        assert tuple(tilejson("roads")["bounds"]) == DEFAULT_BOUNDS
        style = client.get("/styles/twin.json").json()
        assert style["center"] == pytest.approx([CX + SIDE / 2, CY + SIDE / 2])
        # Every building gone: back to Shenzhen's box.
        _write(conninfo, "DELETE FROM twin.building")
        assert _until(lambda: tilejson("buildings")["bounds"] == list(DEFAULT_BOUNDS))
    _write(conninfo, "DELETE FROM twin.admin_unit")
