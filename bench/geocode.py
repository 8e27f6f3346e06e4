"""Benchmark of the geocoder: accuracy on the generator's truth, speed against two baselines.

Run: ``.venv/bin/python -m bench.geocode [--scale medium] [--seed 2] [--baseline-queries 300]``

Generates Bao'an (440306) at the given scale and seed into a scratch database (the matcher
was developed on seed 1 of one street: other seeds are unseen data), then, in one run:

- **accuracy** of ``twin geocode``'s matcher on every truth row: top-1 code at the truth's
  level, per noise kind, precision of the ``accept`` band, shares of ``review``/``reject``;
- **speed**: the whole file path (read a CSV of the messy addresses, match, read standard texts
  and locations, write the geocoded CSV) with 1 and 2 worker processes, against two
  baselines over the same library and queries: PostgreSQL ``pg_trgm`` similarity search (GIN
  index, top-1 standard text) and ``rapidfuzz.process.extractOne`` over the standard texts
  (on a sample: they are slow); their top-1 accuracy on the same sample;
- **memory** of the loaded index, per room, and extrapolated to the city's 11 million rooms;
- **HTTP**: p50/p99 latency of ``GET /api/v1/geocode`` at 8 concurrent clients, for each
  server configuration of ``--http-paths`` in turn (``old``: every request through the whole
  stack with a database query; ``new``: the fast path and the described-codes cache; see
  ``bench/common.py``), ``--http-rounds`` times, with the server process's CPU time per
  query (which the shared machine's load does not inflate as much as latency).
  ``--http-only`` measures only this (and writes ``bench/results/geocode-http.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gc
import os
import random
import statistics
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.common import SERVER_PATHS, api_server, scratch_database, write_results
from geocode.batch import geocode_table, read_table, write_table
from geocode.index import load_index
from geocode.match import match
from twin.db.connect import connect
from twin.keys import create_key
from twin.load.admin import load_admin
from twin.synth.run import generate

#: The city's rooms, for the memory extrapolation (DESIGN.md).
CITY_ROOMS = 11_000_000
TRGM_SQL = (
    "SELECT code FROM twin.address WHERE text %% %(q)s AND level IN ('building', 'room') "
    "ORDER BY similarity(text, %(q)s) DESC LIMIT 1"
)


def _accuracy(index: Any, truth: list[tuple[str, str, str]]) -> dict[str, Any]:
    right, bands, accepted_right = 0, Counter[str](), 0
    kind_right, kind_total = Counter[str](), Counter[str]()
    for text, noise, code in truth:
        result = match(index, text)
        ok = result.code == code
        right += ok
        bands[result.band] += 1
        accepted_right += ok and result.band == "accept"
        for kind in noise.split("+"):
            kind_total[kind] += 1
            kind_right[kind] += ok
    n = len(truth)
    return {
        "rows": n,
        "top1": round(right / n, 5),
        "accept_precision": round(accepted_right / max(1, bands["accept"]), 5),
        "accept_share": round(bands["accept"] / n, 4),
        "review_share": round(bands["review"] / n, 4),
        "reject_share": round(bands["reject"] / n, 4),
        "top1_by_noise": {k: round(kind_right[k] / t, 4) for k, t in sorted(kind_total.items())},
    }


def _file_speed(conn: Any, index: Any, truth: list[tuple[str, str, str]], workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        with src.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "address"])
            writer.writerows((i, t) for i, (t, _, _) in enumerate(truth))
        started = time.perf_counter()
        table = read_table(src)
        header, rows, _ = geocode_table(conn, index, table, "address", workers=workers)
        write_table(out, header, rows)
        return len(truth) / (time.perf_counter() - started)


def _baselines(conn: Any, sample: list[tuple[str, str, str]]) -> dict[str, Any]:
    from rapidfuzz import process

    library = conn.execute(
        "SELECT text, code FROM twin.address WHERE level IN ('building', 'room')"
    ).fetchall()
    texts = [t for t, _ in library]
    codes = [c for _, c in library]
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # The generator builds this index too; the baseline needs it either way.
    conn.execute(
        "CREATE INDEX IF NOT EXISTS address_text_trgm_idx ON twin.address "
        "USING gin (text gin_trgm_ops)"
    )
    conn.execute("SET pg_trgm.similarity_threshold = 0.3")
    conn.commit()
    out: dict[str, Any] = {"library_texts": len(texts), "sample": len(sample)}
    runs = {
        "pg_trgm": lambda q: (conn.execute(TRGM_SQL, {"q": q}).fetchone() or [None])[0],
        "rapidfuzz_extractOne": lambda q: codes[process.extractOne(q, texts)[2]],
    }
    for name, find in runs.items():
        right = 0
        started = time.perf_counter()
        for text, _, code in sample:
            right += find(text) == code
        seconds = time.perf_counter() - started
        out[name] = {"per_second": round(len(sample) / seconds, 1),
                     "top1": round(right / len(sample), 4)}  # fmt: skip
    return out


def _memory(conn: Any) -> dict[str, Any]:
    gc.collect()
    tracemalloc.start()
    index = load_index(conn)
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rooms = index.stats()["rooms"]
    per_room = current / max(1, rooms)
    return {"index_mb": round(current / 1e6, 1), "rooms": rooms,
            "bytes_per_room": round(per_room), "city_estimate_gb":
            round(per_room * CITY_ROOMS / 1e9, 2)}  # fmt: skip


def _http(
    url: str, key: str, queries: list[str], clients: int = 8, workers: int = 1, path: str = "new"
) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {key}"}
    jobs, env = SERVER_PATHS[path]
    load_before = round(os.getloadavg()[0], 2)
    with api_server(url, env, workers=workers, jobs=jobs) as base:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                warm = httpx.get(f"{base}/api/v1/geocode", params={"q": queries[0]}, headers=auth)
                if warm.status_code == 200:
                    break
            time.sleep(0.2)
        times: list[float] = []
        lock = threading.Lock()
        chunks = [queries[i::clients] for i in range(clients)]

        def worker(chunk: list[str]) -> None:
            with httpx.Client(base_url=base, timeout=30, headers=auth) as client:
                for q in chunk:
                    started = time.perf_counter()
                    client.get("/api/v1/geocode", params={"q": q}).raise_for_status()
                    with lock:
                        times.append(time.perf_counter() - started)

        started, cpu_before = time.perf_counter(), base.cpu_s()
        threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        cpu_ms = (base.cpu_s() - cpu_before) * 1000 / max(1, len(times))
    times.sort()
    return {"path": path, "load_average_1m": [load_before, round(os.getloadavg()[0], 2)],
            "clients": clients, "server_workers": workers, "queries": len(times),
            "per_second": round(len(times) / wall, 1),
            "server_cpu_ms_per_query": round(cpu_ms, 3),
            "p50_ms": round(statistics.median(times) * 1000, 2),
            "p99_ms": round(times[int(0.99 * (len(times) - 1))] * 1000, 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="medium", choices=["small", "medium"])
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--baseline-queries", type=int, default=300)
    parser.add_argument("--http-queries", type=int, default=2000)
    parser.add_argument("--speed-rows", type=int, default=100_000)
    parser.add_argument("--server-workers", type=int, default=1, help="uvicorn processes")
    parser.add_argument("--http-only", action="store_true", help="measure only HTTP")
    parser.add_argument("--http-paths", default="old,new", help="server configurations")
    parser.add_argument("--http-rounds", type=int, default=1, help="times each path runs")
    args = parser.parse_args()
    cluster, conninfo = scratch_database("twin_bench_geocode")
    figures: dict[str, Any] = {"scale": args.scale, "seed": args.seed, "district": "440306"}
    with contextlib.closing(connect(conninfo)) as conn:
        load_admin(conn)
        conn.commit()
        generate(conn, "440306", args.scale, args.seed, workers=2, conninfo=conninfo)
        conn.execute("ANALYZE")
        conn.commit()
        truth = conn.execute(
            "SELECT messy_address, noise, address_code FROM twin.synth_truth ORDER BY source_id"
        ).fetchall()
        if args.http_only:
            key = _system_key(conn)
            _http_rounds(figures, cluster.url("twin_bench_geocode"), key, truth, args)
            write_results("geocode-http", figures)
            return
        started = time.perf_counter()
        index = load_index(conn)
        figures["index_load_s"] = round(time.perf_counter() - started, 2)
        figures["index"] = index.stats()
        figures["accuracy"] = _accuracy(index, truth)
        print("accuracy", figures["accuracy"], flush=True)
        rows = truth[: args.speed_rows]
        speed: dict[str, Any] = {"rows": len(rows)}
        speed |= {f"workers_{w}": round(_file_speed(conn, index, rows, w), 1) for w in (1, 2)}
        speed["per_core"] = speed["workers_1"]
        figures["file_rows_per_second"] = speed
        print("speed", speed, flush=True)
        sample = random.Random(1).sample(truth, min(args.baseline_queries, len(truth)))
        ours = sum(match(index, t).code == c for t, _, c in sample) / len(sample)
        base = _baselines(conn, sample)
        base["citytwin_top1_on_sample"] = round(ours, 4)
        base["speedup_vs_pg_trgm"] = round(speed["per_core"] / base["pg_trgm"]["per_second"], 1)
        base["speedup_vs_rapidfuzz"] = round(
            speed["per_core"] / base["rapidfuzz_extractOne"]["per_second"], 1
        )
        figures["baselines"] = base
        print("baselines", base, flush=True)
        del index
        figures["memory"] = _memory(conn)
        key = _system_key(conn)
    _http_rounds(figures, cluster.url("twin_bench_geocode"), key, truth, args)
    write_results("geocode", figures)


def _system_key(conn: Any) -> str:
    key, _ = create_key(conn, name="bench", role="system", created_by="bench.geocode",
                        rate_per_minute=10**6)  # fmt: skip
    conn.commit()
    return key


def _http_rounds(
    figures: dict[str, Any], url: str, key: str, truth: list[Any], args: argparse.Namespace
) -> None:
    """HTTP latency per server configuration, in turn; ranges and ratios in ``figures``."""
    queries = [t for t, _, _ in random.Random(2).sample(truth, min(args.http_queries, len(truth)))]
    paths = [p for p in args.http_paths.split(",") if p]
    runs = []
    for _ in range(args.http_rounds):
        for path in paths:
            runs.append(_http(url, key, queries, workers=args.server_workers, path=path))
            print("http", runs[-1], flush=True)
    figures["http_runs"] = runs
    summary: dict[str, Any] = {}
    for path in paths:
        mine = [r for r in runs if r["path"] == path]
        summary[path] = {f: [min(r[f] for r in mine), max(r[f] for r in mine)]
                         for f in ("p50_ms", "p99_ms", "per_second",
                                   "server_cpu_ms_per_query")}  # fmt: skip
    if "old" in summary and "new" in summary:
        olds = [r for r in runs if r["path"] == "old"]
        news = [r for r in runs if r["path"] == "new"]
        summary["new_over_old_p99"] = [round(n["p99_ms"] / o["p99_ms"], 2)
                                       for n, o in zip(news, olds, strict=False)]  # fmt: skip
    figures["http"] = summary


if __name__ == "__main__":
    main()
