"""Entity auto-coding against PostGIS: codes, the border rule, serials, stability, moves,
retirement, bad rows and links. Every test runs in a transaction that is rolled back."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from shapely import LineString, Point, Polygon, box

from blocks.coding import beidou
from blocks.coding.model import BatchOptions, EntityItem
from blocks.coding.service import (
    code_entities,
    get_entity,
    link_entity,
    linked_entities,
    load_classes,
    unlink_entity,
)
from blocks.errors import LinkError
from tests.blocks.seed import M_LAT, M_LON, X0, Y0, A, B, D, footprint, seed_communities

pytestmark = pytest.mark.db
BUILDING, HYDRANT, ROAD, STORE = "3101", "9101", "4204", "3104"


@pytest.fixture
def conn(db: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    seed_communities(db)
    load_classes(db)
    return db


def _items(*geoms: Any, ids: list[str | None] | None = None) -> list[EntityItem]:
    ids = ids or [None] * len(geoms)
    return [
        EntityItem(n, g, sid) for n, (g, sid) in enumerate(zip(geoms, ids, strict=True), start=1)
    ]


def _code(conn: psycopg.Connection[Any], items: list[EntityItem], cls: str = BUILDING, **kw: Any):
    return code_entities(conn, items, cls, actor="test", **kw)


def test_admin_codes_are_community_class_serial(conn: psycopg.Connection[Any]) -> None:
    first = _code(conn, _items(*(footprint(X0 + 0.001 * k, Y0 + 0.002) for k in range(1, 4))))
    assert [r.code for r in first] == [f"{A}{BUILDING}{k:06d}" for k in (1, 2, 3)]
    assert {r.status for r in first} == {"new"} and {r.community_code for r in first} == {A}
    again = _code(conn, _items(footprint(X0 + 0.005, Y0 + 0.005), footprint(X0 + D + 0.002, Y0)))
    assert [r.code for r in again] == [f"{A}{BUILDING}000004", f"{B}{BUILDING}000001"]
    hydrant = _code(conn, _items(Point(X0 + 0.003, Y0 + 0.003)), HYDRANT)
    assert hydrant[0].code == f"{A}{HYDRANT}000001"  # each class counts on its own


def test_beidou_form_is_grid_cell_class_serial(conn: psycopg.Connection[Any]) -> None:
    p, q = Point(X0 + 0.004, Y0 + 0.004), Point(X0 + 0.004 + 0.2 * M_LON, Y0 + 0.004)
    got = _code(conn, _items(p, q, ids=["h1", "h2"]), HYDRANT, form="beidou")
    cell = str(beidou.encode(p.x, p.y, 7)[0])
    assert str(beidou.encode(q.x, q.y, 7)[0]) == cell  # 20 cm apart: one 7 m cell
    assert [r.code for r in got] == [f"{cell}{HYDRANT}0001", f"{cell}{HYDRANT}0002"]
    assert got[0].beidou_code == str(beidou.encode(p.x, p.y, 10)[0])
    assert got[0].community_code == A
    assert get_entity(conn, got[0].code).beidou_code == got[0].beidou_code


def test_border_rule(conn: psycopg.Connection[Any]) -> None:
    edge = X0 + D
    mostly_b = box(edge - 10 * M_LON, Y0 + 0.001, edge + 30 * M_LON, Y0 + 0.001 + 20 * M_LAT)
    mostly_a = box(edge - 30 * M_LON, Y0 + 0.003, edge + 10 * M_LON, Y0 + 0.003 + 20 * M_LAT)
    halves = box(edge - 10 * M_LON, Y0 + 0.005, edge + 10 * M_LON, Y0 + 0.005 + 20 * M_LAT)
    got = _code(conn, _items(mostly_b, mostly_a, halves))
    assert [r.community_code for r in got] == [B, A, A]  # a tie goes to the lowest code
    road = LineString([(edge - 100 * M_LON, Y0 + 0.007), (edge + 40 * M_LON, Y0 + 0.007)])
    along = LineString([(edge, Y0 + 0.002), (edge, Y0 + 0.004)])
    assert [r.community_code for r in _code(conn, _items(road, along), ROAD)] == [A, A]
    on_edge = Point(edge, Y0 + 0.008)
    inside_b = Point(edge + 5 * M_LON, Y0 + 0.008)
    got = _code(conn, _items(on_edge, inside_b), HYDRANT)
    assert [r.community_code for r in got] == [A, B]


def test_recoding_the_same_batch_returns_the_same_codes(conn: psycopg.Connection[Any]) -> None:
    shapes = [footprint(X0 + 0.001 * k, Y0 + 0.004) for k in range(1, 6)]
    ids = [f"B{k}" for k in range(1, 6)]
    first = _code(conn, _items(*shapes, ids=ids))
    second = _code(conn, _items(*shapes, ids=ids))
    assert [r.code for r in second] == [r.code for r in first]
    assert {r.status for r in second} == {"existing"}
    # An edit of half a metre keeps the code and updates the geometry.
    nudged = [shapes[0].buffer(0.5 * M_LAT, join_style="mitre"), *shapes[1:]]
    third = _code(conn, _items(*nudged, ids=ids))
    assert third[0].status == "updated" and third[0].code == first[0].code
    (count,) = conn.execute("SELECT count(*) FROM twin.geo_entity").fetchone()  # type: ignore[misc]
    assert count == 5


def test_without_ids_geometry_within_tolerance_is_the_same_entity(
    conn: psycopg.Connection[Any],
) -> None:
    p = Point(X0 + 0.002, Y0 + 0.002)
    shape = footprint(X0 + 0.004, Y0 + 0.004)
    first = _code(conn, _items(p), HYDRANT)[0]
    near = Point(p.x + 0.4 * M_LON, p.y + 0.4 * M_LAT)  # 0.57 m away
    far = Point(p.x + 3 * M_LON, p.y)
    got = _code(conn, _items(p, near, far), HYDRANT)
    assert got[0].code == first.code and got[0].status == "existing"
    assert got[1].status == "rejected"  # the same hydrant as row 1, twice in one batch
    assert got[2].status == "new"
    again = _code(conn, _items(near), HYDRANT)[0]
    assert again.code == first.code and again.status == "updated"
    b1 = _code(conn, _items(shape))[0]
    edited = Polygon([(x + 1.2 * M_LON, y) for x, y in shape.exterior.coords])  # 1.2 m east
    assert _code(conn, _items(edited))[0].code == b1.code
    moved = Polygon([(x + 6 * M_LON, y) for x, y in shape.exterior.coords])  # 6 m: another one
    assert _code(conn, _items(moved))[0].code != b1.code


def test_moving_to_another_community_retires_the_old_code(conn: psycopg.Connection[Any]) -> None:
    old = _code(conn, _items(Point(X0 + 0.005, Y0 + 0.005), ids=["H-1"]), HYDRANT)[0]
    conn.execute("INSERT INTO twin.person (source_id, name) VALUES ('P1', '张三')")
    (person,) = conn.execute("SELECT id FROM twin.person WHERE source_id = 'P1'").fetchone()  # type: ignore[misc]
    link_entity(conn, old.code, "person", person, relation="owner", actor="test")
    new = _code(conn, _items(Point(X0 + D + 0.005, Y0 + 0.005), ids=["H-1"]), HYDRANT)[0]
    assert new.status == "recoded" and new.previous_code == old.code
    assert new.code == f"{B}{HYDRANT}000001" and new.community_code == B
    retired = get_entity(conn, old.code)
    assert retired.status == "retired" and retired.successor_codes == [new.code]
    assert retired.retired_at is not None
    assert [(lk.record_id, lk.relation) for lk in get_entity(conn, new.code).links] == [
        (person, "owner")
    ]
    with pytest.raises(LinkError, match="retired"):
        link_entity(conn, old.code, "person", person, actor="test")
    # Back in A: a third code; the retired one is never handed out again.
    back = _code(conn, _items(Point(X0 + 0.005, Y0 + 0.005), ids=["H-1"]), HYDRANT)[0]
    assert back.code == f"{A}{HYDRANT}000002"


def test_class_change_recodes(conn: psycopg.Connection[Any]) -> None:
    shape = footprint(X0 + 0.006, Y0 + 0.006)
    old = _code(conn, _items(shape, ids=["S-1"]))[0]
    new = _code(conn, _items(shape, ids=["S-1"]), STORE)[0]
    assert new.status == "recoded" and new.code == f"{A}{STORE}000001"
    assert get_entity(conn, old.code).successor_codes == [new.code]


def test_counters_never_go_back(conn: psycopg.Connection[Any]) -> None:
    _code(conn, _items(Point(X0 + 0.001, Y0 + 0.001)), HYDRANT)
    with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="only grow"):
        conn.execute("UPDATE twin.entity_code_counter SET last = 0")


def test_bad_rows_are_reported_and_the_rest_is_coded(conn: psycopg.Connection[Any]) -> None:
    bow_tie = Polygon(
        [
            (X0 + 0.001, Y0 + 0.001),
            (X0 + 0.002, Y0 + 0.002),
            (X0 + 0.002, Y0 + 0.001),
            (X0 + 0.001, Y0 + 0.002),
        ]
    )
    items = [
        EntityItem(1, footprint(X0 + 0.003, Y0 + 0.003), "ok"),
        EntityItem(2, footprint(X0 - 0.05, Y0), "outside"),
        EntityItem(3, Polygon(), "empty"),
        EntityItem(4, bow_tie, "bow-tie"),
        EntityItem(5, footprint(X0 + 0.005, Y0 + 0.003), "odd", class_code="9999"),
        EntityItem(6, footprint(X0 + 0.006, Y0 + 0.003), "dup"),
        EntityItem(7, footprint(X0 + 0.007, Y0 + 0.003), "dup"),
        EntityItem(8, Point(X0 + 0.008, Y0 + 0.003), "point"),
        EntityItem(9, None, "none", problem="field wkt: unreadable (bad WKT)"),
        EntityItem(10, Point(500_000.0, 2_500_000.0), "metres"),
        EntityItem(11, footprint(X0 + 0.009, Y0 + 0.003), "medium", class_code="3100"),
    ]
    got = {r.row: r for r in _code(conn, items)}
    assert got[1].status == "new"
    assert all(got[n].status == "rejected" for n in range(2, 12))
    fields = {n: [(p.field, p.message) for p in got[n].problems] for n in range(2, 12)}
    assert fields[2] == [("geometry", "lies outside every community polygon")]
    assert fields[3] == [("geometry", "empty geometry")]
    assert fields[4][0][0] == "geometry" and "Self-intersection" in fields[4][0][1]
    assert fields[5][0][0] == "class" and "unknown class '9999'" in fields[5][0][1]
    assert fields[6] == fields[7] and fields[6][0][0] == "source_id"
    assert "rows 6, 7" in fields[6][0][1]
    assert fields[8][0][0] == "geometry" and "Point does not fit class 3101" in fields[8][0][1]
    assert fields[9] == [("geometry", "field wkt: unreadable (bad WKT)")]
    assert "not longitude/latitude" in fields[10][0][1]
    assert fields[11][0][0] == "class" and "medium class" in fields[11][0][1]
    (count,) = conn.execute("SELECT count(*) FROM twin.geo_entity").fetchone()  # type: ignore[misc]
    assert count == 1
    again = {r.row: r for r in _code(conn, items)}  # nothing coded twice on a rerun
    assert again[1].status == "existing" and again[1].code == got[1].code


def test_links_to_people_legal_entities_events_and_addresses(
    conn: psycopg.Connection[Any],
) -> None:
    code = _code(conn, _items(footprint(X0 + 0.002, Y0 + 0.006)))[0].code
    assert code is not None
    conn.execute(
        "INSERT INTO twin.event (source_id, event_type, occurred_at) VALUES ('E1', '消防', now())"
    )
    (event,) = conn.execute("SELECT id FROM twin.event WHERE source_id = 'E1'").fetchone()  # type: ignore[misc]
    made = link_entity(conn, code, "event", event, relation="reported_on", actor="test")
    assert link_entity(conn, code, "event", event, relation="reported_on", actor="t").id == made.id
    assert [lk.entity_code for lk in linked_entities(conn, "event", event)] == [code]
    with pytest.raises(LinkError, match="no legal entity 999999"):
        link_entity(conn, code, "legal_entity", 999_999, actor="test")
    with pytest.raises(LinkError, match="no address"):
        link_entity(conn, code, "address", "440311001001D99999", actor="test")
    with pytest.raises(LinkError, match="use one of"):
        link_entity(conn, code, "vehicle", 1, actor="test")
    unlink_entity(conn, made.id)
    assert linked_entities(conn, "event", event) == []


def test_bulk_batches_write_one_audit_row(conn: psycopg.Connection[Any]) -> None:
    items = _items(*(footprint(X0 + 0.0005 * k, Y0 + 0.008) for k in range(1, 6)))
    got = code_entities(
        conn, items, BUILDING, actor="bulk", options=BatchOptions(bulk_audit_rows=2)
    )
    assert [r.status for r in got] == ["new"] * 5
    rows = conn.execute(
        "SELECT action, after ->> 'new' FROM twin.audit_log WHERE actor = 'bulk'"
    ).fetchall()
    assert rows == [("code_entities", "5")]
    (role,) = conn.execute("SHOW session_replication_role").fetchone()  # type: ignore[misc]
    assert role == "origin"  # restored after the batch
    updated = _code(conn, [EntityItem(1, footprint(X0 + 0.0005, Y0 + 0.008 + 0.3 * M_LAT))])
    assert updated[0].status == "updated" and updated[0].code == got[0].code
