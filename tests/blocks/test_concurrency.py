"""Two processes coding overlapping batches at the same moment never produce a duplicate.

These tests commit (two processes cannot share a rolled-back transaction), and remove what
they wrote afterwards.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter, defaultdict
from typing import Any

import psycopg
import pytest

from shapely import Point, from_wkt

from blocks.coding.model import EntityItem
from blocks.coding.service import code_entities
from tests.blocks.seed import X0, Y0, A, B, D

pytestmark = [pytest.mark.db, pytest.mark.slow]
HYDRANT = "9101"


def _worker(conninfo: str, rows: list[tuple[int, str, str]], barrier: Any, out: Any) -> None:
    items = [EntityItem(n, from_wkt(wkt), sid) for n, wkt, sid in rows]
    with psycopg.connect(conninfo) as conn:
        barrier.wait(timeout=60)
        results = code_entities(conn, items, HYDRANT, actor="proc", source="concurrency")
    out.put([(r.source_id, r.status, r.code, r.previous_code) for r in results])


def _run_two(conninfo: str, first: list[Any], second: list[Any]) -> list[list[Any]]:
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(conninfo, rows, barrier, out)) for rows in (first, second)
    ]
    for p in procs:
        p.start()
    answers = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return answers


def _point(k: int, community_x0: float) -> str:
    return Point(community_x0 + 0.0003 * (k % 30) + 0.0001, Y0 + 0.0003 * (k // 30) + 0.0001).wkt


def _stored(conninfo: str) -> list[tuple[str, str, str, list[str]]]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(  # type: ignore[return-value]
            "SELECT code, source_id, status, successor_codes FROM twin.geo_entity "
            "WHERE source = 'concurrency'"
        ).fetchall()


def test_overlapping_batches_share_codes_and_never_duplicate(committed: str) -> None:
    # Ids 0-299 and 150-449, spread over both communities: ids 150-299 are in both batches.
    def rows(ids: range) -> list[tuple[int, str, str]]:
        return [(n, _point(k, X0 if k % 2 else X0 + D), f"H{k}") for n, k in enumerate(ids, 1)]

    p, q = _run_two(committed, rows(range(300)), rows(range(150, 450)))
    code_of: dict[str, set[str]] = defaultdict(set)
    for answer in (p, q):
        assert {status for _, status, _, _ in answer} <= {"new", "existing"}
        for sid, _, code, _ in answer:
            code_of[sid].add(code)
    assert all(len(codes) == 1 for codes in code_of.values())  # both got the same code
    stored = _stored(committed)
    assert len(stored) == 450 and {s[2] for s in stored} == {"active"}
    serials: dict[str, list[int]] = defaultdict(list)
    for code, *_ in stored:
        serials[code[:12]].append(int(code[-6:]))
    assert set(serials) == {A, B}
    for numbers in serials.values():  # one serial each, no gap, no repeat
        assert sorted(numbers) == list(range(1, len(numbers) + 1))


def test_the_same_ids_in_two_places_at_once_end_with_one_live_code(committed: str) -> None:
    in_a = [(n, _point(k, X0), f"M{k}") for n, k in enumerate(range(100), 1)]
    in_b = [(n, _point(k, X0 + D), f"M{k}") for n, k in enumerate(range(100), 1)]
    answers = _run_two(committed, in_a, in_b)
    stored = _stored(committed)
    codes = [s[0] for s in stored]
    assert len(codes) == len(set(codes))
    live = Counter(sid for _, sid, status, _ in stored if status == "active")
    assert len(live) == 100 and set(live.values()) == {1}
    active = {code for code, _, status, _ in stored if status == "active"}
    for _code, _, status, successors in stored:
        if status == "retired":
            assert len(successors) == 1 and successors[0] in active
    statuses = Counter(s for answer in answers for _, s, _, _ in answer)
    assert statuses["new"] == 100 and statuses["new"] + statuses["recoded"] == 200
