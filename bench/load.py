"""Bounded load test on loopback: mixed geocode / tile / block requests while a job runs.

Run: ``.venv/bin/python -m bench.load [--scale small] [--clients 16] [--seconds 60]
[--paths old,new] [--rounds 1]``

Generates Bao'an (440306) at the given scale into a scratch database, starts the API
(``twin serve``, one server process) and runs two phases with the same clients and the same
request mix:

1. **baseline**: the mix alone, for a third of the time;
2. **under load**: the mix while a background job runs — a placement job when the server
   offers one (``POST /api/v1/jobs/place``), else a geocoding job of the generator's messy
   addresses (``POST /api/v1/jobs/geocode``).

The mix: geocoding single addresses (``GET /api/v1/geocode``, a ``system`` key), vector tiles
of buildings and grids at zooms 13–16 (``GET /tiles/…``, a ``planner`` key), and block
reads (``GET /api/v1/blocks/{code}`` when the server has it, else the address library's
``GET /api/v1/addresses/{code}``). For each phase and kind: requests, requests per second,
p50 / p99 latency and errors (any status other than 200/304, or no answer). Targets (issue):
zero errors, geocoding p99 under 100 ms under load. The ratio of the loaded p99 to the
baseline p99 is what carries across machines.

``--paths`` runs both phases once per server configuration, in turn (``--rounds`` times), on
the same data and requests: ``new`` is the server as shipped (jobs in the job worker process,
single geocoding answered by the fast path with the described-codes cache); ``old`` is the
server as it was (jobs in a thread of the server process, every geocoding request through the
whole stack with a database query for the matched code's text and location). The ratios of
their figures are what to compare on a shared machine. Writes ``bench/results/load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import os
import random
import statistics
import tempfile
import time
from collections import defaultdict
from typing import Any

import httpx

from bench.common import SERVER_PATHS, api_server, scratch_database, write_results
from tiles.tms import tiles_covering
from twin.db.connect import connect
from twin.keys import create_key
from twin.load.admin import load_admin
from twin.synth.run import generate

DISTRICT = "440306"
MIX = {"geocode": 0.5, "tile": 0.3, "block": 0.2}
OK = (200, 304)
PATHS = SERVER_PATHS


def _requests(conn: Any, blocks_route: bool, rng: random.Random) -> dict[str, list[str]]:
    """The URLs of each kind, drawn from the generated data."""
    truth = [r[0] for r in conn.execute(
        "SELECT messy_address FROM twin.synth_truth ORDER BY source_id LIMIT 20000"
    ).fetchall()]  # fmt: skip
    geocode = [str(httpx.URL("/api/v1/geocode", params={"q": t})) for t in truth]
    bbox = conn.execute(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
        "FROM (SELECT ST_Extent(footprint) AS e FROM twin.building) b"
    ).fetchone()
    tiles = []
    for z in range(13, 17):
        x0, y0, x1, y1 = tiles_covering(tuple(bbox), z)
        cells = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        for x, y in rng.sample(cells, min(len(cells), 400)):
            tiles.append(f"/tiles/buildings,grids/{z}/{x}/{y}.mvt")
    if blocks_route:
        codes = [r[0] for r in conn.execute(
            "(SELECT code FROM twin.admin_unit WHERE code LIKE %(d)s AND level IN "
            "('street', 'community', 'grid')) UNION ALL "
            "(SELECT code FROM twin.building ORDER BY random() LIMIT 2000)",
            {"d": f"{DISTRICT}%"},
        ).fetchall()]  # fmt: skip
        block = [f"/api/v1/blocks/{c}" for c in codes]
    else:
        codes = [r[0] for r in conn.execute(
            "SELECT code FROM twin.address WHERE level IN ('building', 'room') "
            "ORDER BY random() LIMIT 3000"
        ).fetchall()]  # fmt: skip
        block = [f"/api/v1/addresses/{c}" for c in codes]
    return {"geocode": geocode, "tile": tiles, "block": block}


async def _phase(
    base: str, keys: dict[str, str], urls: dict[str, list[str]], clients: int, seconds: float
) -> dict[str, Any]:
    """Run ``clients`` concurrent clients for ``seconds``; return figures per kind."""
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    kinds, weights = list(MIX), list(MIX.values())
    end = time.perf_counter() + seconds

    async def client(n: int) -> None:
        rng = random.Random(n)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while time.perf_counter() < end:
                kind = rng.choices(kinds, weights)[0]
                url = rng.choice(urls[kind])
                headers = {"Authorization": f"Bearer {keys[kind]}", "Accept-Encoding": "gzip"}
                started = time.perf_counter()
                try:
                    res = await http.get(url, headers=headers)
                    status = res.status_code
                except httpx.HTTPError as exc:
                    status, detail = 0, type(exc).__name__
                else:
                    detail = res.text[:120] if status not in OK else ""
                times[kind].append(time.perf_counter() - started)
                if status not in OK and not (kind == "block" and status == 404):
                    errors[kind].append(f"{status} {url[:80]} {detail}")

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    wall = time.perf_counter() - started
    out: dict[str, Any] = {"seconds": round(wall, 1), "clients": clients}
    for kind in kinds:
        t = sorted(times[kind])
        if not t:
            continue
        out[kind] = {
            "requests": len(t),
            "per_second": round(len(t) / wall, 1),
            "p50_ms": round(statistics.median(t) * 1000, 1),
            "p99_ms": round(t[int(0.99 * (len(t) - 1))] * 1000, 1),
            "errors": len(errors[kind]),
            "error_samples": errors[kind][:3],
        }
    total = sum(len(v) for v in times.values())
    out["all"] = {"requests": total, "per_second": round(total / wall, 1),
                  "errors": sum(len(v) for v in errors.values())}  # fmt: skip
    return out


def _start_job(base: str, key: str, conn: Any, routes: set[str], source: str) -> tuple[str, str]:
    """Submit the background job; return its status URL and what it is."""
    truth = conn.execute(
        "SELECT source_id, messy_address FROM twin.synth_truth ORDER BY source_id LIMIT 200000"
    ).fetchall()
    buf = io.StringIO()
    writer = csv.writer(buf)
    auth = {"Authorization": f"Bearer {key}"}
    if "/api/v1/jobs/place" in routes:
        writer.writerow(["id", "address"])
        writer.writerows(truth)
        res = httpx.post(f"{base}/api/v1/jobs/place", headers=auth, timeout=120,
                         files={"file": ("people.csv", buf.getvalue().encode())},
                         data={"kind": "person", "address_column": "address",
                               "id_column": "id", "source": source})  # fmt: skip
        kind = "placement"
    else:
        writer.writerow(["id", "地址"])
        writer.writerows(truth)
        res = httpx.post(f"{base}/api/v1/jobs/geocode", headers=auth, timeout=120,
                         files={"file": ("records.csv", buf.getvalue().encode())},
                         data={"column": "地址", "output": "csv"})  # fmt: skip
        kind = "geocoding"
    res.raise_for_status()
    body = res.json()
    url = str(body.get("url") or f"/api/v1/jobs/{body['id']}")
    return (url if url.startswith("http") else f"{base}{url}"), kind


def _run(
    cluster: Any, conn: Any, keys: dict[str, str], args: argparse.Namespace, path: str, n: int
) -> dict[str, Any]:
    """Both phases against a server started in configuration ``path``."""
    jobs, env = PATHS[path]
    with (
        tempfile.TemporaryDirectory() as home,
        api_server(cluster.url("twin_bench_load"), {"TWIN_HOME": home, **env},
                   workers=args.server_workers, jobs=jobs) as base,
    ):  # fmt: skip
        routes = set(httpx.get(f"{base}/openapi.json").json()["paths"])
        urls = _requests(conn, "/api/v1/blocks/{code}" in routes, random.Random(1))
        warm = httpx.get(f"{base}{urls['geocode'][0]}", timeout=300,
                         headers={"Authorization": f"Bearer {keys['geocode']}"})  # fmt: skip
        warm.raise_for_status()  # the first request loads the geocoder's index
        out: dict[str, Any] = {"path": path, "jobs": jobs, "env": env,
                               "load_average_1m_before": round(os.getloadavg()[0], 2)}  # fmt: skip
        out["requests_of_each_kind"] = {k: len(v) for k, v in urls.items()}
        cpu = base.cpu_s()
        out["baseline"] = asyncio.run(_phase(base, keys, urls, args.clients, args.seconds / 3))
        out["baseline"]["server_cpu_ms_per_request"] = round(
            (base.cpu_s() - cpu) * 1000 / max(1, out["baseline"]["all"]["requests"]), 3
        )  # the server process alone (the old path's job thread runs in it under load)
        print(path, "baseline", out["baseline"], flush=True)
        job_url, job_kind = _start_job(base, keys["job"], conn, routes, f"load-{path}-{n}")
        loaded = asyncio.run(_phase(base, keys, urls, args.clients, args.seconds))
        job = httpx.get(job_url, headers={"Authorization": f"Bearer {keys['job']}"}).json()
        out["under_load"] = loaded | {
            "job": {"kind": job_kind, "status": job.get("status"),
                    "rows_done_during_test": job.get("done_rows"), "rows": job.get("rows")}
        }  # fmt: skip
        out["load_average_1m_after"] = round(os.getloadavg()[0], 2)
        print(path, "under load", out["under_load"], flush=True)
    geo = loaded.get("geocode", {})
    out["targets"] = {
        "zero_errors": loaded["all"]["errors"] == 0,
        "geocode_p99_under_100_ms": geo.get("p99_ms", 1e9) < 100,
        "geocode_p99_ratio_to_baseline": round(
            geo.get("p99_ms", 0) / max(out["baseline"].get("geocode", {}).get("p99_ms", 1), 0.1),
            2,
        ),
    }
    return out


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per path: the range of the geocoding figures over the rounds; new ÷ old ratios."""
    out: dict[str, Any] = {}
    for path in dict.fromkeys(r["path"] for r in runs):
        mine = [r for r in runs if r["path"] == path]
        row: dict[str, Any] = {}
        for phase in ("baseline", "under_load"):
            for fig in ("p50_ms", "p99_ms", "per_second"):
                vals = [r[phase].get("geocode", {}).get(fig, 0.0) for r in mine]
                row[f"{phase}_geocode_{fig}"] = [min(vals), max(vals)]
            vals = [r[phase]["all"]["per_second"] for r in mine]
            row[f"{phase}_all_per_second"] = [min(vals), max(vals)]
        row["errors"] = sum(r["baseline"]["all"]["errors"] + r["under_load"]["all"]["errors"]
                            for r in mine)  # fmt: skip
        out[path] = row
    if "old" in out and "new" in out:
        out["new_over_old_geocode_p99_under_load"] = [
            round(n["under_load"]["geocode"]["p99_ms"] / o["under_load"]["geocode"]["p99_ms"], 2)
            for n, o in zip(
                (r for r in runs if r["path"] == "new"),
                (r for r in runs if r["path"] == "old"),
                strict=False,
            )
        ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small", choices=["small", "medium"])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--server-workers", type=int, default=1, help="uvicorn processes")
    parser.add_argument("--paths", default="old,new", help=f"of {', '.join(PATHS)}, in turn")
    parser.add_argument("--rounds", type=int, default=1, help="times each path runs")
    args = parser.parse_args()
    paths = [p for p in args.paths.split(",") if p]
    if not paths or set(paths) - set(PATHS):
        parser.error(f"--paths: choose among {', '.join(PATHS)}")
    cluster, conninfo = scratch_database("twin_bench_load")
    figures: dict[str, Any] = {"scale": args.scale, "seed": args.seed, "district": DISTRICT,
                               "mix": MIX, "server_workers": args.server_workers,
                               "clients": args.clients, "seconds": args.seconds}  # fmt: skip
    with contextlib.closing(connect(conninfo)) as conn:
        load_admin(conn)
        conn.commit()
        generate(conn, DISTRICT, args.scale, args.seed, workers=2, conninfo=conninfo)
        conn.execute("ANALYZE")
        conn.commit()
        keys = {}
        for kind, role in (("geocode", "system"), ("tile", "planner"), ("block", "admin"),
                           ("job", "admin")):  # fmt: skip
            keys[kind], _ = create_key(conn, name=f"load-{kind}", role=role,
                                       created_by="bench.load", rate_per_minute=10**6,
                                       quota_per_day=10**9)  # fmt: skip
        conn.commit()
        runs = [_run(cluster, conn, keys, args, path, n)
                for n in range(args.rounds) for path in paths]  # fmt: skip
    figures["runs"] = runs
    figures["summary"] = _summary(runs)
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    write_results("load", figures)


if __name__ == "__main__":
    main()
