"""Benchmark of the address library: alias resolution latency.

Run: ``.venv/bin/python -m bench.library [--scale small] [--queries 2000]``

Generates a district street into a scratch database, then resolves the aliases and standard
texts of random addresses with the library (exact look-up of a text to its code) and, as the
baseline in the same run, with a ``pg_trgm`` similarity search (GIN index, top-1) over the
same texts. Reports p50/p99 latency and the share resolved to the right code.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import time

from bench.common import scratch_database, write_results
from geocode.library.repository import resolve_alias
from twin.db.connect import connect
from twin.load.admin import load_admin
from twin.synth.run import generate

TRGM = (
    "SELECT address_code FROM twin.address_alias WHERE text %% %(t)s "
    "ORDER BY similarity(text, %(t)s) DESC LIMIT 1"
)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small", choices=["small", "medium"])
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    _, conninfo = scratch_database("twin_bench_library")
    with contextlib.closing(connect(conninfo)) as conn:
        load_admin(conn)
        conn.commit()
        generate(conn, "440306", args.scale, 1, workers=2, conninfo=conninfo)
        conn.execute("ANALYZE")
        pairs = conn.execute("SELECT text, address_code FROM twin.address_alias").fetchall()
        sample = random.Random(1).sample(pairs, min(args.queries, len(pairs)))
        figures = {}
        for name, resolve in (
            ("library", lambda t: resolve_alias(conn, t)),
            ("pg_trgm_baseline", lambda t: _trgm(conn, t)),
        ):
            times, right = [], 0
            for text, code in sample:
                started = time.perf_counter()
                got = resolve(text)
                times.append(time.perf_counter() - started)
                right += got == code
            figures[name] = {
                "p50_ms": _pct(times, 0.5),
                "p99_ms": _pct(times, 0.99),
                "mean_ms": round(statistics.fmean(times) * 1000, 3),
                "correct_share": round(right / len(sample), 4),
            }
    figures["p50_speedup_vs_pg_trgm"] = round(
        figures["pg_trgm_baseline"]["p50_ms"] / figures["library"]["p50_ms"], 1
    )
    write_results(
        "library", {"scale": args.scale, "queries": len(sample), "aliases": len(pairs), **figures}
    )


def _trgm(conn, text):  # type: ignore[no-untyped-def]
    row = conn.execute(TRGM, {"t": text}).fetchone()
    return row[0] if row else None


if __name__ == "__main__":
    main()
