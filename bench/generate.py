"""Benchmark of the demo generator: rows per second into PostGIS and the city extrapolation.

Run: ``.venv/bin/python -m bench.generate [--district 440306] [--scale medium] [--workers 2]``
(``--scale city --district 440306`` measures one district at full density and ``--scale city
--district all`` the whole city, each into its own file).

Generates the district into a scratch database of the project's local cluster (``TWIN_HOME``,
default ``.twin``) and measures wall time, rows per second, peak client memory (getrusage of
this process and its worker processes) and CPU seconds of the client processes and of the
database backends serving them (sampled from /proc, so the figures hold on a shared machine
too). The city (all of Shenzhen at full density) has ``(1 / density) × city people / district
people`` times as many rows; its time is extrapolated from the measured rows per second and,
for a machine to itself, from the CPU seconds per row over its two cores.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import threading
import time
from typing import Any

from bench.common import scratch_database, write_results
from twin.db.connect import connect
from twin.load.admin import load_admin
from twin.synth.density import CITY_POPULATION_M, POPULATION_M, SCALES
from twin.synth.run import generate

_TICK = os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """Samples the CPU seconds of every backend connected to one database, once a second."""

    def __init__(self, conninfo: str, dbname: str) -> None:
        self.conninfo, self.dbname = conninfo, dbname
        self.seconds: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> BackendCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with contextlib.closing(connect(self.conninfo, autocommit=True)) as conn:
            me = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
            while not self._stop.wait(1.0):
                pids = [r[0] for r in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                    (self.dbname, me),
                )]  # fmt: skip
                for pid in pids:
                    with contextlib.suppress(OSError):
                        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                        self.seconds[pid] = (int(fields[11]) + int(fields[12])) / _TICK

    @property
    def total(self) -> float:
        """CPU seconds of all backends seen."""
        return sum(self.seconds.values())


def _client_cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _generate_all(conn: Any, codes: list[str], scale: str, workers: int, conninfo: str) -> Any:
    """Generate the districts in a row (indexes built once, after the last); merge reports."""
    total = None
    for code in codes:
        report = generate(
            conn, code, scale, 1, workers=workers, conninfo=conninfo, indexes=code == codes[-1]
        )
        if total is None:
            total = report
            continue
        total.add(report.rows)
        for phase, s in report.seconds.items():
            total.seconds[phase] = round(total.seconds.get(phase, 0.0) + s, 1)
        total.index_seconds.update(report.index_seconds)
    return total


def run(district: str, scale: str, workers: int) -> dict[str, Any]:
    name = "twin_bench_generate"
    _, conninfo = scratch_database(name)
    with contextlib.closing(connect(conninfo)) as conn:
        load_admin(conn)
        conn.commit()
        codes = [district]
        if district == "all":
            codes = [r[0] for r in conn.execute(
                "SELECT code FROM twin.admin_unit WHERE level = 'district' ORDER BY code"
            )]  # fmt: skip
        cpu0 = _client_cpu()
        with BackendCpu(conninfo, name) as backends:
            started = time.perf_counter()
            report = _generate_all(conn, codes, scale, workers, conninfo)
            seconds = time.perf_counter() - started
        client = _client_cpu() - cpu0
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
    rows = sum(report.rows.values())
    return {
        "workers": workers,
        "seconds": round(seconds, 1),
        "rows": rows,
        "rows_per_s": round(rows / seconds),
        "client_cpu_s": round(client, 1),
        "database_cpu_s": round(backends.total, 1),
        "database_size_gb": round(size / 1e9, 1),
        "phases_s": report.seconds,
        "index_s": dict(sorted(report.index_seconds.items(), key=lambda kv: -kv[1])[:6]),
        "tables": dict(sorted(report.rows.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--district", default="440306")
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "city"])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    measured = run(args.district, args.scale, args.workers)
    people = CITY_POPULATION_M if args.district == "all" else POPULATION_M[args.district]
    factor = (SCALES["city"] / SCALES[args.scale]) * CITY_POPULATION_M / people
    city_rows = measured["rows"] * factor
    cpu = measured["client_cpu_s"] + measured["database_cpu_s"]
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
        "measured": measured,
        "load_average_1min": round(os.getloadavg()[0], 1),
        "peak_client_memory_mb_per_process": round(peak_mb),
        "city_extrapolation": {
            "rows": round(city_rows),
            "minutes_at_measured_rate": round(city_rows / measured["rows_per_s"] / 60, 1),
            "minutes_on_two_idle_cores": round(cpu * factor / 2 / 60, 1),
            "method": "rows scale with population over density; time with the measured rows/s, "
            "or with the measured client + database CPU seconds per row spread over two cores",
        },
    }
    default = args.scale == "medium" and args.district == "440306"
    write_results("generate" if default else f"generate-{args.scale}-{args.district}", figures)


if __name__ == "__main__":
    main()
