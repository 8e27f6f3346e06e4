"""The bulk write of placements: one statement per chunk, the next chunk located and staged on
a reading connection while one is written; a reviewed placement kept, its facets following
the record; counts equal to a full recount."""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg
import pytest

import blocks.placement.service as service
from blocks.placement.aggregates import recount_differences
from blocks.placement.review import review
from blocks.placement.service import place_table
from geocode.batch import Table
from twin.db.connect import connect
from twin.keys import Principal

pytestmark = pytest.mark.db

EVENTS = ["id", "事件类型", "事件状态", "发生时间", "lon", "lat"]
PEOPLE = ["id", "姓名", "居住类型", "lon", "lat"]
REVIEWER = Principal("k1", "审核员", "admin")


def _stored(conninfo: str, source: str) -> dict[str, tuple[Any, ...]]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT e.source_id, p.building_code, p.grid_code, p.method, p.band, p.facets "
            "FROM twin.event e JOIN twin.placement p ON p.record_kind = 'event' "
            "AND p.record_id = e.id AND p.role = 'primary' WHERE e.source = %s", (source,)
        ).fetchall()  # fmt: skip
    return {r[0]: r[1:] for r in rows}


def test_chunks_staged_on_a_reading_connection_store_what_one_chunk_stores(
    street: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    conninfo = street[0]
    with psycopg.connect(conninfo) as conn:
        points = conn.execute(
            "SELECT ST_X(ST_PointOnSurface(footprint)), ST_Y(ST_PointOnSurface(footprint)) "
            "FROM twin.building ORDER BY code LIMIT 23"
        ).fetchall()
    rows = [[f"e{i}", "噪音扰民", "open" if i % 3 else "closed", "2025-06-01", x, y]
            for i, (x, y) in enumerate(points)]  # fmt: skip
    rows.append(["e3", "噪音扰民", "open", "2025-06-01", *points[0]])  # a repeat, 3 chunks on
    opened: list[psycopg.Connection[Any] | None] = []
    original = service.reading_connection

    def reading(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any] | None:
        opened.append(original(conn))
        return opened[-1]

    monkeypatch.setattr(service, "reading_connection", reading)
    seen: list[Any] = []
    with contextlib.closing(connect(conninfo)) as conn:
        chunked = place_table(conn, list, Table(EVENTS, rows), kind="event", source="chunked",
                              actor="test", chunk_rows=5, on_chunk=seen.extend)  # fmt: skip
        assert len(opened) == 1 and opened[0] is not None and opened[0].closed, "closed after"
        whole = place_table(conn, list, Table(EVENTS, rows), kind="event", source="whole",
                            actor="test", chunk_rows=len(rows))  # fmt: skip
        assert len(opened) == 1, "one chunk needs no reading connection"
    assert [r.row for r in seen] == list(range(1, len(rows) + 1)), "every row answered, in order"
    assert chunked.statuses == whole.statuses == {"placed": 23, "invalid": 1}
    assert "'e3' repeats row 4" in (seen[-1].reason or "")
    assert _stored(conninfo, "chunked") == _stored(conninfo, "whole")
    assert len(_stored(conninfo, "chunked")) == 23
    with contextlib.closing(connect(conninfo)) as conn:
        # placed again: updated in place, never a second row; the counts follow
        again = place_table(conn, list, Table(EVENTS, rows), kind="event", source="chunked",
                            actor="test", chunk_rows=5)  # fmt: skip
        assert again.statuses == chunked.statuses
        (n,) = conn.execute(
            "SELECT count(*) FROM twin.placement p JOIN twin.event e ON e.id = p.record_id "
            "AND p.record_kind = 'event' WHERE e.source = 'chunked'"
        ).fetchone()  # fmt: skip
        assert n == 23
        assert recount_differences(conn) == []


def test_a_reviewed_placement_is_kept_and_its_facets_follow_the_record(
    street: tuple[str, str],
) -> None:
    conninfo = street[0]
    with psycopg.connect(conninfo) as conn:
        # a point inside a grid but in no building: people there wait for review
        x, y = conn.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(ST_Difference(g.geom, "
            "(SELECT ST_Union(footprint) FROM twin.building))) AS p FROM twin.admin_unit g "
            "WHERE g.level = 'grid' AND g.geom IS NOT NULL ORDER BY g.code LIMIT 1) AS q"
        ).fetchone()  # fmt: skip
    with contextlib.closing(connect(conninfo)) as conn:
        first = place_table(conn, list, Table(PEOPLE, [["p1", "张三", "户籍", x, y]]),
                            kind="person", source="kept", actor="test")  # fmt: skip
        assert first.statuses == {"review": 1}
        (pid,) = conn.execute(
            "SELECT p.id FROM twin.placement p JOIN twin.person r ON r.id = p.record_id "
            "AND p.record_kind = 'person' WHERE r.source = 'kept'"
        ).fetchone()  # fmt: skip
        review(conn, REVIEWER, pid, "confirm")
        conn.commit()
        before = conn.execute("SELECT placed_at, review_status, grid_code, facets "
                              "FROM twin.placement WHERE id = %s", (pid,)).fetchone()  # fmt: skip
        assert before[1] == "confirmed" and before[3] == ["residence:household"]
        # the same point, another residence kind: the review stands, the facet follows
        seen: list[Any] = []
        place_table(conn, list, Table(PEOPLE, [["p1", "张三", "租住", x, y]]), kind="person",
                    source="kept", actor="test", on_chunk=seen.extend)  # fmt: skip
        (answer,) = seen
        assert answer.placement_id == pid and answer.band == "accept", "the confirmed one"
        kept = conn.execute("SELECT placed_at, review_status, grid_code, facets "
                            "FROM twin.placement WHERE id = %s", (pid,)).fetchone()  # fmt: skip
        assert kept[:3] == before[:3] and kept[3] == ["residence:rental"]
        assert recount_differences(conn) == []
        # another point: placed again, waiting for review again
        (bx, by) = conn.execute(
            "SELECT ST_X(ST_PointOnSurface(footprint)), ST_Y(ST_PointOnSurface(footprint)) "
            "FROM twin.building ORDER BY code LIMIT 1"
        ).fetchone()  # fmt: skip
        moved = place_table(conn, list, Table(PEOPLE, [["p1", "张三", "租住", bx, by]]),
                            kind="person", source="kept", actor="test")  # fmt: skip
        assert moved.statuses == {"placed": 1}
        after = conn.execute("SELECT review_status, building_code FROM twin.placement "
                             "WHERE id = %s", (pid,)).fetchone()  # fmt: skip
        assert after[0] is None and after[1] is not None
        assert recount_differences(conn) == []
