"""Offline archives in the viewer: ``twin tiles export`` writes a PMTiles v3 file of the placed
street, and the viewer at ``/`` in headless Chromium opens it from disk ("打开离线包").

``pmtiles_browser.cjs`` first chooses four files that are not PMTiles v3 archives (text, a
version 2 header, a v3 header that cannot be read, an archive whose tiles are garbage): each
gets its message in the page and no exception. Then the archive: its layers must be listed,
and the features the page drew must be those the archive's tiles hold (decoded here with
``mapbox-vector-tile``, each feature that reaches into its tile, by code or id). No request
may go to a host other than the server: the file is read where it lies. Screenshots in
``.twin-test/artefacts/pmtiles/``.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
from pydantic import SecretStr

from shapely.geometry import LineString, MultiPoint, Polygon, box, shape

from models3d.source import buildings_from_db
from models3d.tiles3d.citymodel import build_city_tileset
from tests.browser.conftest import CHROMIUM, HOST, ROOT, VIEWER, drive, require_tools, serve
from tests.utils.auth import key_headers
from tests.utils.cli import twin
from twin.db.connect import connect
from twin.settings import ModelSettings, PostgresSettings, TwinSettings

pytestmark = [pytest.mark.browser, pytest.mark.db, pytest.mark.slow]

SCRIPT = Path(__file__).with_name("pmtiles_browser.cjs")
ARTEFACTS = ROOT / ".twin-test" / "artefacts" / "pmtiles"
LAYERS = "districts,streets,communities,grids,buildings,roads,addresses,entities,events"
#: The tallest building: the archive is cut around it.
_TARGET = """
SELECT b.code, ST_X(p), ST_Y(p)
FROM twin.building AS b CROSS JOIN LATERAL ST_PointOnSurface(b.footprint) AS p
ORDER BY b.height_m DESC, b.code LIMIT 1
"""


@pytest.fixture(scope="module")
def facts(placed_street_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The street's archive (about 800 m around its tallest building) and city tileset."""
    work = tmp_path_factory.mktemp("pmtiles")
    with contextlib.closing(connect(placed_street_url)) as conn:
        row = conn.execute(_TARGET).fetchone()
        assert row is not None
        build_city_tileset(buildings_from_db(conn), work / "3dtiles" / "city")
        conn.rollback()
    code, lon, lat = row
    archive = work / "field.pmtiles"
    bbox = f"{lon - 0.004},{lat - 0.004},{lon + 0.004},{lat + 0.004}"
    done = twin({**os.environ, "DATABASE_URL": placed_street_url}, "tiles", "export",
                str(archive), "--bbox", bbox, "--layers", LAYERS, "--minzoom", "13",
                "--maxzoom", "16")  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    return {"url": placed_street_url, "work": work, "archive": archive, "code": code,
            "target": {"lon": lon, "lat": lat}, "export": summary}  # fmt: skip


@pytest.fixture(scope="module")
def base(facts: dict[str, Any]) -> Iterator[str]:
    """The API serving the street and the built viewer (old screenshots cleared)."""
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    settings = TwinSettings(
        db=PostgresSettings(database_url=SecretStr(facts["url"]), connect_timeout_s=2),
        models3d=ModelSettings(tilesets_dir=facts["work"] / "3dtiles", viewer_dir=VIEWER),
    )
    with serve(settings) as url:
        yield url


def _reaches_tile(geometry: dict[str, Any], extent: int) -> bool:
    """Whether a decoded feature (tile coordinates, y down) reaches into its tile's square."""
    square = box(0, 0, extent, extent)
    geom = shape(geometry)
    if isinstance(geom, MultiPoint) or geom.geom_type == "Point":
        points = getattr(geom, "geoms", [geom])
        return any(0 <= p.x < extent and 0 <= p.y < extent for p in points)
    if geom.geom_type in ("LineString", "MultiLineString"):
        lines = getattr(geom, "geoms", [geom])
        return any(LineString(line).intersection(square).length > 0 for line in lines)
    polygons = getattr(geom, "geoms", [geom])
    return any(Polygon(p.exterior).intersection(square).area > 0 for p in polygons)


def _archive_keys(path: Path, z: int, tiles: list[list[int]]) -> dict[str, set[str]]:
    """Per layer, the features of these tiles of the archive that reach into their tile."""
    from pmtiles.reader import MmapSource, Reader

    keys: dict[str, set[str]] = {}
    with path.open("rb") as fh:
        reader = Reader(MmapSource(fh))
        for x, y in tiles:
            data = reader.get(z, x, y)
            if not data:
                continue
            tile = mapbox_vector_tile.decode(
                gzip.decompress(data), default_options={"y_coord_down": True}
            )
            for name, layer in tile.items():
                for i, f in enumerate(layer["features"]):
                    p = f["properties"]
                    key = p.get("code", p.get("id", f"{z}/{x}/{y}#{i}"))
                    if _reaches_tile(f["geometry"], layer["extent"]):
                        keys.setdefault(name, set()).add(str(key))
    return keys


def _bad_files(folder: Path, archive: Path) -> list[dict[str, str]]:
    """Four files the page must refuse, each with a text its message must hold."""
    from pmtiles.reader import MmapSource, Reader

    text = folder / "notes.pmtiles"
    text.write_text('{"type": "FeatureCollection", "features": []}\n' * 10, encoding="utf-8")
    v2 = folder / "old.pmtiles"
    v2.write_bytes(b"PMTiles\x02" + bytes(512))
    # A v3 header whose directories claim a compression no reader knows.
    header = bytearray(b"PMTiles\x03" + bytes(512))
    header[97] = 9
    broken = folder / "broken.pmtiles"
    broken.write_bytes(bytes(header))
    # The real archive with its tiles' bytes overwritten: header and directories read, tiles not.
    data = bytearray(archive.read_bytes())
    with archive.open("rb") as fh:
        start = Reader(MmapSource(fh)).header()["tile_data_offset"]
    data[start:] = bytes(len(data) - start)
    corrupt = folder / "corrupt.pmtiles"
    corrupt.write_bytes(bytes(data))
    return [
        {"path": str(text), "expect": "“notes.pmtiles”不是 PMTiles 离线包。"},
        {"path": str(v2), "expect": "“old.pmtiles”是 PMTiles 第 2 版；只能打开第 3 版"},
        {"path": str(broken), "expect": "无法读取“broken.pmtiles”"},
        {"path": str(corrupt), "expect": "无法读取“corrupt.pmtiles”"},
    ]


def test_the_viewer_opens_an_exported_archive_from_disk(
    base: str, facts: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    node = require_tools("app/app.js")
    key = key_headers(facts["url"], "planner", name="offline archive")["Authorization"][7:]
    shots = tmp_path / "shots"
    shots.mkdir()
    bad = _bad_files(tmp_path, facts["archive"])
    r = drive(node, SCRIPT, {
        "url": f"{base}/?api_key={key}", "chromium": str(CHROMIUM),
        "userDataDir": str(tmp_path / "profile"), "home": str(tmp_path), "shots": str(shots),
        "allowedHost": HOST, "canary": "http://canary.invalid/ping", "bad": bad,
        "archive": str(facts["archive"]), "target": facts["target"],
    })  # fmt: skip
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for shot in r["shots"]:
        assert Path(shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        shutil.copy(shot, ARTEFACTS)
    assert "failure" not in r, (r["failure"], r.get("errors"))
    assert r["errors"] == [] and r["appErrors"] == [], r
    # Only the canary, fetched on purpose, tried another host: the archive was read from disk.
    assert r["offHost"] == ["http://canary.invalid/ping"], r["offHost"]
    assert r["button"] == "打开离线包"
    # Each refused file: no summary, its message in the card.
    for seen, want in zip(r["bad"], bad, strict=True):
        assert seen["summary"] is None and not seen["hidden"]
        assert seen["error"] and want["expect"] in seen["error"], seen["error"]
    assert "Compression method not supported" in r["bad"][2]["error"]

    from pmtiles.reader import MmapSource, Reader

    with facts["archive"].open("rb") as fh:
        reader = Reader(MmapSource(fh))
        header, metadata = reader.header(), reader.metadata()
    s = r["summary"]
    # The header and metadata, as the archive has them.
    ids = [layer["id"] for layer in metadata["vector_layers"]]
    assert ids == LAYERS.split(",")
    assert [layer["id"] for layer in r["card"]["layers"]] == ids
    assert (s["minZoom"], s["maxZoom"]) == (header["min_zoom"], header["max_zoom"]) == (13, 16)
    assert s["bounds"] == pytest.approx(
        [header[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7")]
    )
    assert r["card"]["header"][1] == "13–16" and r["card"]["error"] is None
    # Read at the deepest zoom (z16: a few tiles cover 800 m); drawn: what those tiles hold.
    assert s["zoom"] == 16 and not s["truncated"] and s["tilesFound"] == len(s["tiles"]) > 1
    expected = _archive_keys(facts["archive"], s["zoom"], s["tiles"])
    assert {name: set(keys) for name, keys in s["keys"].items()} == expected
    assert s["counts"] == {name: len(keys) for name, keys in expected.items()}
    assert facts["code"] in s["keys"]["buildings"]
    assert {"buildings", "roads", "addresses", "grids", "communities"} <= set(s["counts"])
    assert s["counts"]["buildings"] > 20 and r["drawn"] == 4
    # The server's 3D buildings give way to the archive's while it is open; the camera looks
    # at the archive's centre.
    assert r["twinShown"] is False
    assert abs(r["view"]["x"] - 0.5) < 0.05 and abs(r["view"]["y"] - 0.5) < 0.05
    # Read again for a close view of the tallest building: fewer tiles, what they hold.
    v = r["viewSummary"]
    assert v["zoom"] == 16 and set(map(tuple, v["tiles"])) < set(map(tuple, s["tiles"]))
    assert v["keys"] == {name: sorted(keys) for name, keys in _archive_keys(
        facts["archive"], v["zoom"], v["tiles"]).items()}  # fmt: skip
    assert facts["code"] in v["keys"]["buildings"] and r["viewCard"]["error"] is None
    assert r["english"]["button"] == "Open offline archive"
    assert r["english"]["title"] == "Offline archive" and "Drawn:" in r["english"]["shown"]
    assert r["closed"] == {"hidden": True, "drawn": 0, "twinShown": True}
    features = sum(s["counts"].values())
    with capsys.disabled():
        print(  # noqa: T201  (the figure for the report)
            f"\noffline archive: {features} features of {s['tilesFound']} tiles read and drawn "
            f"in {s['ms']} ms ({facts['archive'].stat().st_size:,} bytes; headless Chromium, "
            f"WebGL on the CPU); screenshots: {ARTEFACTS}\nexport: {facts['export']}"
        )
