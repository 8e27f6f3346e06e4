"""Placement at scale on a generated street: the geocoding pool and its de-duplication give the
geocoder's answers, chunks checked ahead keep every rule (bad points, ids repeated across
chunks), and a local multi-process Dask cluster places and geocodes files as one process
does."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from blocks.placement.aggregates import recount_differences
from blocks.placement.distributed import place_file
from blocks.placement.service import place_table
from geocode import distributed
from geocode.batch import Table, geocode_table, read_table
from geocode.distributed import geocode_file
from geocode.pool import POOL_FROM, MatchPool, match_many
from tests.blocks.placement_data import EVENT_HEADER, datum_events, truth, write_csv
from tests.utils.cli import twin
from twin.db.connect import connect

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from distributed import Client

    from geocode.service import Geocoder

pytestmark = pytest.mark.db

#: In Mirs Bay south of Dapeng (inside Shenzhen's box, outside every unit); and Guangzhou.
SEA, GUANGZHOU = (114.60, 22.40), (113.26, 23.13)


def _answer(r: Any) -> tuple[Any, ...]:
    return (r.input, r.code, r.level, round(r.confidence, 6), r.band, r.reason, r.warnings)


def test_the_pool_gives_the_geocoders_answers_once_per_distinct_text(
    street: tuple[str, str], geocoder: Geocoder
) -> None:
    people = truth(street[0], "person", POOL_FROM + 200)
    texts = [p["messy_address"] for p in people]
    # Repeats, the same text written with other spaces and full-width digits, and empties.
    texts += texts[:300] + [" " + t.replace("1", "１") + " " for t in texts[:50]] + ["", "  "]
    expected = [_answer(r) for r in geocoder.geocode_many(texts)]
    assert [_answer(r) for r in match_many(geocoder.index, texts)] == expected
    with MatchPool(geocoder.index, 2) as pool:
        results = pool(texts)
        pending = pool.submit(texts[:10])
        assert [_answer(r) for r in pending()] == expected[:10]
    assert [_answer(r) for r in results] == expected
    with MatchPool(geocoder.index, 2, details=False) as pool:
        brief = pool(texts)
    assert [_answer(r) for r in brief] == expected and not any(r.explain for r in brief)
    assert results[0] is not results[len(people)], "a repeated text gets its own copy"
    assert sum(r.band == "accept" for r in results) > 0.8 * len(texts)


def test_bad_points_and_ids_repeated_across_chunks(street: tuple[str, str]) -> None:
    with psycopg.connect(street[0]) as conn:
        inside = conn.execute(
            "SELECT code, ST_X(ST_PointOnSurface(footprint)), ST_Y(ST_PointOnSurface(footprint)) "
            "FROM twin.building ORDER BY code LIMIT 6"
        ).fetchall()
        (in_a_unit,) = conn.execute(
            "SELECT count(*) FROM twin.admin_unit WHERE ST_Intersects(geom, "
            "ST_SetSRID(ST_MakePoint(%s, %s), 4326))", SEA
        ).fetchone()  # fmt: skip
    assert in_a_unit == 0, "the sea point must lie outside every unit"
    header = ["id", "事件类型", "发生时间", "lon", "lat"]
    rows = [[f"e{i}", "噪音扰民", "2025-06-01", x, y] for i, (_, x, y) in enumerate(inside)]
    rows[1][3:] = [inside[1][2], inside[1][1]]  # swapped
    rows += [["sea", "溺水", "2025-06-01", *SEA], ["gz", "噪音扰民", "2025-06-01", *GUANGZHOU]]
    rows += [["e0", "噪音扰民", "2025-06-02", *inside[5][1:]]]  # e0 again, two chunks later
    seen: list[Any] = []
    with contextlib.closing(connect(street[0])) as conn:
        summary = place_table(conn, list, Table(header, rows), kind="event", source="bad",
                              actor="test", chunk_rows=3, on_chunk=seen.extend)  # fmt: skip
    by_row = {r.row: r for r in seen}
    assert [r.row for r in seen] == list(range(1, 10))
    assert all(by_row[i + 1].path.building == inside[i][0] for i in range(6))
    assert any("swapped" in p.message for p in by_row[2].problems)
    sea = by_row[7]
    assert sea.status == "rejected" and sea.path.district is None
    assert any("outside every unit" in p.message for p in sea.problems)
    gz = by_row[8]
    assert gz.status == "rejected" and any("outside Shenzhen" in p.message for p in gz.problems)
    again = by_row[9]
    assert again.status == "invalid" and "'e0' repeats row 1" in (again.reason or "")
    assert summary.statuses == {"placed": 6, "rejected": 2, "invalid": 1}
    with psycopg.connect(street[0]) as conn:
        stored = conn.execute(
            "SELECT count(*), count(DISTINCT source_id) FROM twin.event WHERE source = 'bad'"
        ).fetchone()
    assert stored == (8, 8)


def test_a_pool_places_as_one_process_does(street: tuple[str, str], geocoder: Geocoder) -> None:
    people = truth(street[0], "person", 400)
    rows = [[p["source_id"], p["messy_address"]] for p in people]
    rows += [[f"{p['source_id']}-b", p["messy_address"]] for p in people[:200]]  # same addresses
    answers = []
    with (
        contextlib.closing(connect(street[0])) as conn,
        MatchPool(geocoder.index, 2, details=False) as pool,
    ):
        for source, matcher in (("one", geocoder.geocode_many), ("pool", pool)):
            seen: list[Any] = []
            place_table(conn, matcher, Table(["id", "地址"], rows), kind="person", source=source,
                        actor="test", chunk_rows=250, on_chunk=seen.extend)  # fmt: skip
            answers.append([(r.row, r.status, r.method, r.confidence, r.path, r.reason)
                            for r in seen])  # fmt: skip
    assert answers[0] == answers[1]
    assert sum(a[1] == "placed" for a in answers[0]) > 0.8 * len(rows)


def _waits_for_a_lock(conn: psycopg.Connection[Any], pid: int) -> bool:
    row = conn.execute(
        "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,)
    ).fetchone()
    return bool(row and row[0])


def test_a_write_that_deadlocks_with_another_is_tried_again(
    street: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A writer caught in a deadlock (here forced by a second session) places its rows."""
    caplog.set_level(logging.INFO, logger="blocks.placement.repository")
    with psycopg.connect(street[0]) as conn:
        (first, x, y), (second, x2, y2) = conn.execute(
            "SELECT code, ST_X(ST_PointOnSurface(footprint)), ST_Y(ST_PointOnSurface(footprint)) "
            "FROM twin.building ORDER BY code LIMIT 2"
        ).fetchall()
    header = ["id", "事件类型", "发生时间", "lon", "lat"]
    table = Table(header, [["clash", "噪音扰民", "2025-06-01", x, y]])
    with contextlib.closing(connect(street[0])) as writer:
        place_table(writer, list, table, kind="event", source="clash", actor="test")
        writer.execute("SET deadlock_timeout = '200ms'")  # the writer finds the deadlock
        writer.commit()
        pid = writer.info.backend_pid
        with psycopg.connect(street[0]) as other, ThreadPoolExecutor(1) as pool:
            other.execute("SET deadlock_timeout = '30s'")
            # The other session holds the first building's count, which the writer's move of
            # the event to the second building changes after it has locked the event ...
            other.execute("SELECT 1 FROM twin.block_counts WHERE code = %s FOR UPDATE",
                          (first,))  # fmt: skip
            again = Table(header, [["clash", "噪音扰民", "2025-06-02", x2, y2]])
            placing = pool.submit(place_table, writer, list, again, kind="event",
                                  source="clash", actor="test")  # fmt: skip
            for _ in range(200):
                if _waits_for_a_lock(other, pid):
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the writer never waited for the building's count")
            # ... and now wants the event the writer has locked: a deadlock, which the writer
            # detects first and is aborted for.
            other.execute("SELECT 1 FROM twin.event WHERE source = 'clash' FOR UPDATE")
            other.rollback()
            summary = placing.result(timeout=60)
    assert summary.statuses == {"placed": 1}
    assert "placement write attempt 1 clashed, retrying: deadlock detected" in caplog.text
    with psycopg.connect(street[0]) as conn:
        stored = conn.execute(
            "SELECT count(*), to_char(max(e.occurred_at) AT TIME ZONE 'Asia/Shanghai', "
            "'YYYY-MM-DD'), max(p.building_code) "
            "FROM twin.event AS e JOIN twin.placement AS p ON p.record_kind = 'event' "
            "AND p.record_id = e.id WHERE e.source = 'clash'"
        ).fetchone()
        assert stored == (1, "2025-06-02", second)
        assert recount_differences(conn) == []


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """A local cluster of two worker processes."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,  # fmt: skip
        Client(cluster) as c,
    ):
        yield c


def _by_id(conninfo: str, source: str, table: str) -> dict[str, tuple[Any, ...]]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            f"SELECT r.source_id, p.method, p.band, p.grid_code, p.building_code, p.room_code, "
            f"p.confidence FROM twin.{table} r JOIN twin.placement p ON p.record_id = r.id "
            f"AND p.record_kind = %s WHERE r.source = %s",
            (table, source),
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.slow
def test_a_local_dask_cluster_places_files_as_one_process_does(
    street: tuple[str, str],
    geocoder: Geocoder,
    client: Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(distributed, "PART_BYTES", 4096)  # several parts for small files
    with psycopg.connect(street[0]) as conn:
        points = conn.execute(
            "SELECT ST_X(ST_PointOnSurface(footprint)), ST_Y(ST_PointOnSurface(footprint)) "
            "FROM twin.building ORDER BY random() LIMIT 300"
        ).fetchall()
    header = ["id", "事件类型", "发生时间", "lon", "lat"]
    events = [[f"d{i}", "噪音扰民", "2025-06-01", x, y] for i, (x, y) in enumerate(points)]
    events += [["sea", "溺水", "2025-06-01", *SEA], ["bad", "噪音扰民", "2025-06-01", "x", "y"]]
    events += [["d7", "噪音扰民", "2025-06-03", *points[0]]]  # d7 again, at the end
    people = truth(street[0], "person", 300)
    files = {
        "event": write_csv(tmp_path / "events.csv", header, events),
        "person": write_csv(tmp_path / "people.csv", ["id", "地址"],
                            [[p["source_id"], p["messy_address"]] for p in people]),
    }  # fmt: skip
    with files["event"].open("a", encoding="utf-8") as fh:  # malformed lines in the last part
        fh.write('m1,噪音扰民,2025-06-01,114.1,22.6,extra\n"m2,噪音扰民,2025-06-01,114.1\nm3\n')
    for kind, path in files.items():
        summary, lines = place_file(client, street[0], path, kind=kind, source="on-dask",
                                    actor="test", columns={}, report=True)  # fmt: skip
        with contextlib.closing(connect(street[0])) as conn:
            one = place_table(conn, geocoder.geocode_many, read_table(path), kind=kind,
                              source="in-one", actor="test")  # fmt: skip
        assert summary.statuses == one.statuses and summary.methods == one.methods
        assert [line[0] for line in lines] == list(range(1, len(lines) + 1))
        assert _by_id(street[0], "on-dask", kind) == _by_id(street[0], "in-one", kind)
        if kind == "event":
            assert summary.rows == 306 and lines[300][2] == "rejected"  # the sea
            assert lines[302][2] == "invalid" and "'d7' repeats row 8" in lines[302][-1]
            problems = [(line[2], line[-1]) for line in lines[303:]]
            assert [p[0] for p in problems] == ["invalid"] * 3
            assert "6 fields where the header has 5" in problems[0][1]
            assert "malformed CSV line" in problems[1][1]
            assert "1 fields where the header has 5" in problems[2][1]


@pytest.mark.slow
def test_gcj02_points_placed_on_a_cluster_get_the_hint(
    street: tuple[str, str], client: Client, tmp_path: Path
) -> None:
    shifted, right = datum_events(street[0], 60)
    found = {}
    for name, rows in (("gcj", shifted), ("wgs", right)):
        path = write_csv(tmp_path / f"{name}.csv", EVENT_HEADER, rows)
        found[name], _ = place_file(client, street[0], path, kind="event", source=f"dask-{name}",
                                    actor="test", columns={})  # fmt: skip
    assert len(found["gcj"].hints) == 1 and "--crs gcj02" in found["gcj"].hints[0]
    assert found["wgs"].hints == [] and found["wgs"].statuses == {"placed": 60}
    as_gcj, _ = place_file(client, street[0], tmp_path / "gcj.csv", kind="event",
                           source="dask-gcj", actor="test", columns={}, crs="gcj02")  # fmt: skip
    assert as_gcj.hints == [] and as_gcj.statuses == {"placed": 60}


@pytest.mark.slow
def test_a_local_dask_cluster_geocodes_a_file_as_one_process_does(
    street: tuple[str, str], geocoder: Geocoder, client: Client, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(distributed, "PART_BYTES", 4096)
    people = truth(street[0], "person", 400)
    rows = [[p["source_id"], p["messy_address"]] for p in people] + [["empty", ""]]
    path = write_csv(tmp_path / "addresses.csv", ["id", "address"], rows)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("wide,宝安区,extra\n")  # a malformed line: a row with its problem
    header, out, summary = geocode_file(client, street[0], path, "address")
    with contextlib.closing(connect(street[0])) as conn:
        header1, out1, summary1 = geocode_table(conn, geocoder.index, read_table(path), "address",
                                                workers=1)  # fmt: skip
    assert header == header1 and summary.bands == summary1.bands
    assert [[str(c) for c in r] for r in out] == [[str(c) for c in r] for r in out1]
    assert out[-2][header.index("reason")] == "row 401: the address cell is empty"
    assert "has 3 fields where the header has 2" in out[-1][header.index("reason")]


@pytest.mark.slow
def test_the_command_line_on_a_local_dask_cluster(street: tuple[str, str], tmp_path: Path) -> None:
    events = truth(street[0], "event", 60)
    rows = [[e["source_id"], "噪音扰民", "2025-06-01 20:30", e["messy_address"]] for e in events]
    src = write_csv(tmp_path / "events.csv", ["id", "事件类型", "发生时间", "事发地址"], rows)
    env = {**os.environ, "DATABASE_URL": street[1]}
    report = tmp_path / "report.csv"
    done = twin(env, "place", str(src), "--kind", "event", "--dask", "local", "--workers", "2",
                "-o", str(report), "--source", "cli-dask")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "60 rows:" in done.stdout and "0 invalid" in done.stdout, done.stdout
    lines = read_table(report)
    assert [int(r[0]) for r in lines.rows] == list(range(1, 61))
    assert street[1].split(":")[2].split("@")[0] not in done.stdout + done.stderr  # no password
    out = tmp_path / "geocoded.csv"
    done = twin(env, "geocode", str(src), "--column", "事发地址", "-o", str(out), "--dask",
                "local", "--workers", "2")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert read_table(out).columns[-8:] == ["code", "level", "standard_address", "lon", "lat",
                                            "confidence", "band", "reason"]  # fmt: skip
    xlsx = tmp_path / "events.xlsx"
    xlsx.write_bytes(b"PK\x03\x04")
    refused = twin(env, "place", str(xlsx), "--kind", "event", "--dask", "local")
    assert refused.returncode == 1 and "use CSV or Parquet" in refused.stderr, refused.stderr
