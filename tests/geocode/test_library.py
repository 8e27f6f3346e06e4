"""The unified address library: codes assigned and never reused, versions, as-of reads, aliases,
retirement with successors, optimistic concurrency."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import psycopg
import pytest

from geocode.errors import AddressInputError, AddressNotFoundError, VersionConflictError
from geocode.library.repository import find_addresses, get_address, resolve_alias, resolve_current
from geocode.library.writes import (
    add_alias,
    change_address,
    create_address,
    next_serial,
    retire_address,
)
from tests.utils.blocks import COMMUNITY, DISTRICT, X0, Y0, seed_building, seed_chain

pytestmark = pytest.mark.db
LON, LAT = X0 + 0.005, Y0 + 0.005


def _road(db: psycopg.Connection[Any]) -> str:
    create_address(db, level="district", text="广东省深圳市宝安区", unit_code=DISTRICT, actor="t")
    return create_address(
        db, level="road", text="宝安区翻身路", parent_code=DISTRICT, actor="t"
    ).code


def _door(db: psycopg.Connection[Any], road: str, n: int = 45) -> str:
    return create_address(
        db,
        level="door",
        text=f"宝安区翻身路{n}号",
        parent_code=road,
        lon=LON,
        lat=LAT,
        actor="clerk",
    ).code


def test_codes_are_assigned_by_level_and_carry_the_block_path(db: psycopg.Connection[Any]) -> None:
    seed_chain(db)
    building = seed_building(db)
    road = _road(db)
    assert road == f"{DISTRICT}R00001"
    door = _door(db, road)
    assert door == f"{COMMUNITY}D00001"
    compound = create_address(
        db, level="compound", text="翻身路45号富源花园", parent_code=door, actor="t"
    )
    assert compound.code == f"{COMMUNITY}C0001"
    b = create_address(
        db,
        level="building",
        text="富源花园1栋",
        parent_code=compound.code,
        unit_code=building,
        actor="t",
    )
    unit = create_address(db, level="unit", text="富源花园1栋2单元", parent_code=b.code, actor="t")
    assert unit.code == f"{building}U01"
    row = db.execute(
        "SELECT community_code, district_code FROM twin.address WHERE code = %s", (door,)
    ).fetchone()
    assert row == (COMMUNITY, DISTRICT)


def test_bad_input_is_refused_with_a_reason(db: psycopg.Connection[Any]) -> None:
    seed_chain(db)
    road = _road(db)
    with pytest.raises(AddressInputError, match="unknown level"):
        create_address(db, level="planet", text="x", actor="t")
    with pytest.raises(AddressInputError, match="needs a location"):
        create_address(db, level="door", text="x", parent_code=road, actor="t")
    with pytest.raises(AddressInputError, match="lies in no community"):
        create_address(db, level="door", text="x", parent_code=road, lon=114.3, lat=22.7, actor="t")
    with pytest.raises(AddressInputError, match="outside China"):
        create_address(db, level="door", text="x", parent_code=road, lon=2.3, lat=48.8, actor="t")
    with pytest.raises(AddressInputError, match="existing building"):
        create_address(db, level="building", text="x", unit_code="4403060170010199999", actor="t")
    with pytest.raises(AddressNotFoundError):
        get_address(db, "440306017001D99999")


def test_aliases_resolve_to_their_code(db: psycopg.Connection[Any]) -> None:
    seed_chain(db)
    door = _door(db, _road(db))
    assert add_alias(db, door, "翻身路 45 号", actor="clerk", kind="variant")
    assert not add_alias(db, door, "翻身路45号", actor="clerk")  # the same, once
    add_alias(db, door, "宝安区旧称大道45号", actor="clerk", kind="old_name")
    assert resolve_alias(db, "翻身路45号") == door
    assert resolve_alias(db, "宝安区旧称大道45号") == door
    assert resolve_alias(db, "宝安区翻身路45号") == door  # the standard text itself
    assert get_address(db, door).aliases == ["翻身路45号", "宝安区旧称大道45号"]
    assert [a.code for a in find_addresses(db, text="旧称")] == [door]


def test_versions_and_as_of_reads(db_conninfo: str) -> None:
    with psycopg.connect(db_conninfo) as conn:
        seed_chain(conn)
        door = _door(conn, _road(conn))
        conn.commit()
        try:
            first = get_address(conn, door)
            time.sleep(0.05)
            before_change = dt.datetime.now(dt.UTC)
            time.sleep(0.05)
            changed = change_address(
                conn,
                door,
                first.version,
                text="宝安区翻身路47号",
                actor="supervisor",
                reason="door renumbered",
            )
            conn.commit()
            assert changed.version == first.version + 1
            assert get_address(conn, door, as_of=before_change).text == "宝安区翻身路45号"
            assert get_address(conn, door).text == "宝安区翻身路47号"
            with pytest.raises(AddressNotFoundError, match="on "):
                get_address(conn, door, as_of=first.valid_from - dt.timedelta(days=1))
            history = conn.execute(
                "SELECT changed_by, reason FROM twin.address_history WHERE code = %s", (door,)
            ).fetchall()
            assert history == [("supervisor", "door renumbered")]
        finally:
            conn.rollback()
            _cleanup(conn)


def _cleanup(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET twin.bulk = 'on'")
    for sql in (
        "DELETE FROM twin.address",
        "DELETE FROM twin.address_history",
        "DELETE FROM twin.code_counter",
        "DELETE FROM twin.room",
        "DELETE FROM twin.floor",
        "DELETE FROM twin.building",
        "DELETE FROM twin.admin_unit",
    ):
        conn.execute(sql)
    conn.commit()


def test_two_clerks_cannot_silently_overwrite_each_other(db: psycopg.Connection[Any]) -> None:
    seed_chain(db)
    door = _door(db, _road(db))
    read_by_both = get_address(db, door).version
    change_address(db, door, read_by_both, text="宝安区翻身路46号", actor="clerk-a")
    with pytest.raises(VersionConflictError, match="reload"):
        change_address(db, door, read_by_both, text="宝安区翻身路48号", actor="clerk-b")
    assert get_address(db, door).text == "宝安区翻身路46号"


def test_retired_codes_resolve_to_successors_and_are_never_reused(
    db: psycopg.Connection[Any],
) -> None:
    seed_chain(db)
    road = _road(db)
    old, a, b = _door(db, road, 45), _door(db, road, 47), _door(db, road, 49)
    retired = retire_address(db, old, [a, b], actor="supervisor", reason="split")
    assert retired.status == "retired" and retired.successor_codes == [a, b]
    assert [x.code for x in resolve_current(db, old)] == [a, b]
    assert get_address(db, old).status == "retired"  # the old code still resolves
    with pytest.raises(AddressInputError, match="retired"):
        change_address(db, old, retired.version, text="x", actor="t")
    new = _door(db, road, 51)
    assert new > b and new != old  # serials only grow


def test_concurrent_batches_never_share_a_serial(db_conninfo: str) -> None:
    prefix = "440399001001D"
    got: list[int] = []
    lock = threading.Lock()

    def batch() -> None:
        with psycopg.connect(db_conninfo) as conn:
            mine = [next_serial(conn, prefix, 5) for _ in range(20)]
            conn.commit()
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=batch) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sorted(got) == list(range(1, 61))
    finally:
        with psycopg.connect(db_conninfo, autocommit=True) as conn:
            conn.execute("DELETE FROM twin.code_counter WHERE prefix = %s", (prefix,))
