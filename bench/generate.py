"""Benchmark of the demo generator: rows per second into PostGIS and the city extrapolation.

Run: ``.venv/bin/python -m bench.generate [--scale medium] [--district 440306]``

Generates the district into a scratch database of the project's local cluster with two worker
processes, and — as the baseline in the same run — with one process, then extrapolates the
two-process rate to the whole city at full density (all nine districts, ten times ``medium``).
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import time

from bench.common import scratch_database, write_results
from twin.db.connect import connect
from twin.load.admin import load_admin
from twin.synth.density import POPULATION_M, SCALES
from twin.synth.run import generate


def _run(district: str, scale: str, workers: int) -> dict[str, float]:
    _, conninfo = scratch_database("twin_bench_generate")
    with contextlib.closing(connect(conninfo)) as conn:
        load_admin(conn)
        conn.commit()
        started = time.perf_counter()
        report = generate(conn, district, scale, 1, workers=workers, conninfo=conninfo)
        seconds = time.perf_counter() - started
    rows = sum(report.rows.values())
    return {
        "workers": workers,
        "seconds": round(seconds, 1),
        "rows": rows,
        "rows_per_s": round(rows / seconds),
        "people": report.rows.get("twin.person", 0),
        "buildings": report.rows.get("twin.building", 0),
        "rooms": report.rows.get("twin.room", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--district", default="440306")
    parser.add_argument("--scale", default="medium", choices=["small", "medium"])
    parser.add_argument("--no-baseline", action="store_true", help="skip the 1-process run")
    args = parser.parse_args()
    fast = _run(args.district, args.scale, 2)
    base = None if args.no_baseline else _run(args.district, args.scale, 1)
    share = POPULATION_M[args.district] / sum(POPULATION_M.values())
    city_rows = fast["rows"] / share * (SCALES["city"] / SCALES[args.scale])
    peak_mb = (
        max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        / 1024
    )
    figures = {
        "district": args.district,
        "scale": args.scale,
        "two_workers": fast,
        "one_worker_baseline": base,
        "speedup_vs_one_worker": round(base["seconds"] / fast["seconds"], 2) if base else None,
        "peak_client_memory_mb": round(peak_mb),
        "city_extrapolation": {
            "rows": round(city_rows),
            "minutes": round(city_rows / fast["rows_per_s"] / 60, 1),
            "method": "rows scale with population; same rows/s",
        },
    }
    write_results("generate", figures)


if __name__ == "__main__":
    main()
