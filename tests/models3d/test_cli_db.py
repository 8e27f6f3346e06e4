"""``twin 3d build`` and ``twin 3d rooms`` against the database (buildings inserted here)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.models3d.conftest import assert_valid, content_tiles, decode_table, glb_parts
from tests.utils.blocks import GRID, X0, Y0, delete_chain, seed_building, seed_chain
from tests.utils.cli import twin

pytestmark = pytest.mark.db


@pytest.fixture
def env(db_url: str, db_conninfo: str) -> Iterator[dict[str, str]]:
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        seed_chain(conn)
        for serial in range(1, 9):
            seed_building(conn, serial, floors=3 + serial)
        conn.execute(
            "INSERT INTO twin.block_counts (code, people) VALUES (%s, 42)", (f"{GRID}00003",)
        )
    yield {**os.environ, "DATABASE_URL": db_url}
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM twin.block_counts WHERE code LIKE %s", (f"{GRID}%",))
        conn.execute("DELETE FROM twin.bim_link WHERE building_code LIKE %s", (f"{GRID}%",))
        delete_chain(conn)


def test_build_then_rebuild_after_an_edit(
    env: dict[str, str], tmp_path: Path, db_conninfo: str
) -> None:
    out = tmp_path / "city"
    first = twin(env, "3d", "build", "--out", str(out), "--max-features", "10")
    assert first.returncode == 0, first.stderr
    assert "8 buildings in 1 tiles (1 written, 0 unchanged)" in first.stdout
    assert_valid(out / "tileset.json")
    uri = content_tiles(out / "tileset.json")[0][0]
    cols = decode_table(*glb_parts(out / uri)[:2])
    assert cols["code"][2] == f"{GRID}00003" and cols["people"][2] == 42 and cols["floors"][2] == 6
    again = twin(env, "3d", "build", "--out", str(out))
    assert "(0 written, 1 unchanged)" in again.stdout
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        conn.execute("UPDATE twin.building SET height_m = 99 WHERE code = %s", (f"{GRID}00005",))
    edited = twin(env, "3d", "build", "--out", str(out))
    assert "(1 written, 0 unchanged)" in edited.stdout
    cols = decode_table(*glb_parts(out / uri)[:2])
    assert cols["height_m"][4] == 99.0


@pytest.fixture
def thirty(db_url: str, db_conninfo: str) -> Iterator[dict[str, str]]:
    """Thirty buildings in three rows, 12 to 99 m tall: three tiles of ten (by prominence)."""
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        seed_chain(conn)
        for k in range(30):
            at = (X0 + 0.0005 + 0.0009 * (k % 10), Y0 + 0.001 + 0.003 * (k // 10))
            seed_building(conn, k + 1, floors=4 + k, at=at)
    yield {**os.environ, "DATABASE_URL": db_url}
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        delete_chain(conn)


def _file_ids(out: Path) -> dict[str, tuple[int, int]]:
    """Each tile's (inode, mtime in ns): both stay when a rebuild reuses the file."""
    return {
        uri: ((out / uri).stat().st_ino, (out / uri).stat().st_mtime_ns)
        for uri, _, _ in content_tiles(out / "tileset.json")
    }


def test_rebuild_rewrites_only_the_tile_of_the_edited_building(
    thirty: dict[str, str], tmp_path: Path, db_conninfo: str
) -> None:
    out = tmp_path / "city"
    first = twin(thirty, "3d", "build", "--out", str(out), "--max-features", "10")
    assert "30 buildings in 3 tiles (3 written, 0 unchanged)" in first.stdout, first.stderr
    before = _file_ids(out)
    tables = {uri: decode_table(*glb_parts(out / uri)[:2]) for uri in before}
    edited = f"{GRID}00001"  # the lowest (12 m): in the deepest tile
    (leaf,) = [uri for uri, cols in tables.items() if edited in cols["code"]]
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        conn.execute("UPDATE twin.building SET height_m = 13.5 WHERE code = %s", (edited,))
    again = twin(thirty, "3d", "build", "--out", str(out), "--max-features", "10")
    assert "30 buildings in 3 tiles (1 written, 2 unchanged)" in again.stdout, again.stderr
    after = _file_ids(out)
    assert after.keys() == before.keys()
    assert {uri for uri in after if after[uri] != before[uri]} == {leaf}
    cols = decode_table(*glb_parts(out / leaf)[:2])
    assert cols["height_m"][cols["code"].index(edited)] == 13.5
    assert_valid(out / "tileset.json")
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_rooms_of_one_building(env: dict[str, str], tmp_path: Path) -> None:
    code = f"{GRID}00002"
    run = twin(env, "3d", "rooms", code, "--out", str(tmp_path / "r"))
    assert run.returncode == 0, run.stderr
    assert "5 rooms on 5 floors" in run.stdout
    assert_valid(tmp_path / "r" / "tileset.json")
    cols = decode_table(*glb_parts(tmp_path / "r" / f"{code}.glb")[:2])
    assert cols["room_code"] == [f"{code}{f:06d}" for f in range(1, 6)]
    assert cols["floor_no"] == [1, 2, 3, 4, 5]
    missing = twin(env, "3d", "rooms", f"{GRID}09999")
    assert missing.returncode == 1 and "there is no building" in missing.stderr


def test_import_ifc_links_spaces_to_rooms(
    env: dict[str, str], tmp_path: Path, db_conninfo: str
) -> None:
    from tests.models3d.ifc_builder import build_ifc

    code = f"{GRID}00001"  # seed_building: 4 floors, one room "{floor}01" each
    with psycopg.connect(db_conninfo, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO twin.room (code, building_code, floor_no, room_no) "
            "VALUES (%s, %s, 1, '102')",
            (f"{code}000102", code),
        )
    src = build_ifc(tmp_path / "b.ifc", spaces_per_storey=2)
    run = twin(
        env, "3d", "import-ifc", str(src), "--building", code, "--out", str(tmp_path / "bim")
    )
    assert run.returncode == 0, run.stderr
    assert (
        "placed by IfcSite" in run.stdout and "4 spaces, 3 spaces linked to rooms of" in run.stdout
    )
    cols = decode_table(*glb_parts(tmp_path / "bim" / "spaces.glb")[:2])
    assert dict(zip(cols["name"], cols["room_code"], strict=True)) == {
        "101": f"{code}000001",
        "102": f"{code}000102",
        "201": f"{code}000002",
        "202": "",
    }
    with psycopg.connect(db_conninfo) as conn:
        links = conn.execute(
            "SELECT ifc_type, floor_no, room_code FROM twin.bim_link WHERE model = 'b.ifc' "
            "ORDER BY ifc_type, name"
        ).fetchall()
    assert links == [
        ("IfcBuildingStorey", 1, None),
        ("IfcBuildingStorey", 2, None),
        ("IfcSpace", 1, f"{code}000001"),
        ("IfcSpace", 1, f"{code}000102"),
        ("IfcSpace", 2, f"{code}000002"),
        ("IfcSpace", 2, None),
    ]


def test_import_ifc_without_georeference(env: dict[str, str], tmp_path: Path) -> None:
    from tests.models3d.ifc_builder import build_ifc

    src = build_ifc(tmp_path / "n.ifc", site_latlon=None)
    run = twin(env, "3d", "import-ifc", str(src), "--out", str(tmp_path / "o"))
    assert run.returncode == 1
    assert "pass --anchor LON,LAT,HEIGHT,ROTATION" in run.stderr and "Traceback" not in run.stderr


def test_build_with_cityjson(env: dict[str, str], tmp_path: Path) -> None:
    from tests.models3d.conftest import SAMPLES

    cj = SAMPLES / "cityjson" / "rotterdam_subset.json"
    out = tmp_path / "c"
    args = ["--out", str(out), "--cityjson", str(cj), "--cityjson-crs", "EPSG:7415"]
    run = twin(env, "3d", "build", *args)
    assert run.returncode == 0, run.stderr
    assert "24 buildings" in run.stdout
    assert_valid(out / "tileset.json")
