"""Benchmark of placement: points in polygons against named baselines, and records per second
end to end.

Run: ``.venv/bin/python -m bench.place [--scale small|medium] [--points 200000]``, or
``.venv/bin/python -m bench.place --scale medium --points 5000000 --only-points`` for the
points-in-polygons section alone (written to ``bench/results/place-points.json``).

In a scratch database of the project's local cluster (``TWIN_HOME``, default ``.twin``) it
loads the administrative units, generates the demo street (``small``) or district
(``medium``) of Bao'an, draws random points in the generated buildings' bounding boxes (most
inside a footprint, some between buildings) and times, in the same run on the same points:

1. **placement's coordinate path** (:meth:`PointLocator.locate_xy
   <blocks.placement.points.PointLocator.locate_xy>`: the finest building, else unit, of every
   point, from an empty locator: reading the polygons and building the cell index count), all
   points in one call; and the same through :meth:`PgPlacementRepository.locate_xy` in chunks
   of :data:`~blocks.placement.service.CHUNK_ROWS` as ``twin place`` runs it (arrays in and out);
2. baseline **PostGIS join**: one ``INSERT … SELECT`` with ``ST_Contains`` per point against
   the buildings (buildings only, no fall-back to units), on the first ``--db-points`` points
   (at its rate the whole set would take minutes);
3. baseline **geopandas** ``sjoin`` (points within footprints, buildings only), after reading
   the footprints;
4. baseline **shapely STRtree** ``query(predicate="within")`` (buildings only);
5. baseline **sedonadb** (``ST_Intersects`` join, buildings only) when it is installed.

Then end to end (``place_table``: checking, locating, storing records and placements, the
count triggers), in records per second, per kind: people by address (the geocoder),
companies by code, events by coordinates:

- **new**: this tree's path (chunks of 50,000; the next chunk checked, geocoded by two
  processes forked once, located and staged as COPY text in a thread on a second, reading
  connection while one chunk is written; one statement per chunk after the COPY), on every
  record;
- **old**, the named baseline: the same tables through the code of commit :data:`OLD_REV`
  (the same pool; chunks of 20,000; five statements per chunk after the COPY, each chunk
  located and staged between two writes), run in a temporary checkout of it on the same
  database. Both run on the first ``--old-rows`` rows of each table, as old, new, new, old
  (the tables grow as they run), and their rates are averaged; then the new path places
  every record (``new_all``), whose rates the city is extrapolated from;
- **dask_local**: events by point and people by address from CSV files on a local Dask
  cluster of ``--dask-workers`` processes (``twin place --dask local``).

The city (20 million people, 3 million companies) is extrapolated from the new and the old
rates of the same run, and said to be an extrapolation.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import shapely

from bench.common import scratch_database, write_results
from blocks.placement.points import PointLocator
from blocks.placement.repository import PgPlacementRepository
from blocks.placement.service import CHUNK_ROWS, place_table
from geocode.batch import Table
from geocode.index import load_index
from geocode.pool import MatchPool
from twin.db.connect import connect
from twin.load.admin import load_admin
from twin.synth.run import generate

DISTRICT, STREET = "440306", "440306017"
CITY_PEOPLE, CITY_COMPANIES = 20_000_000, 3_000_000


def _points(conn: Any, n: int, rng: np.random.Generator) -> np.ndarray[Any, Any]:
    boxes = np.array(conn.execute(
        "SELECT ST_XMin(footprint), ST_YMin(footprint), ST_XMax(footprint), ST_YMax(footprint) "
        "FROM twin.building ORDER BY code"
    ).fetchall())  # fmt: skip
    pick = boxes[rng.integers(0, len(boxes), n)]
    x = rng.uniform(pick[:, 0], pick[:, 2])
    y = rng.uniform(pick[:, 1], pick[:, 3])
    return np.column_stack([x, y])


def _ours(conn: Any, xy: np.ndarray[Any, Any]) -> tuple[float, int]:
    PointLocator(conn).locate_xy(xy[:10])  # the compiled kernel's one-time start (cached on disk)
    conn.commit()
    started = time.perf_counter()
    codes = PointLocator(conn).locate_xy(xy)
    seconds = time.perf_counter() - started
    conn.commit()
    return seconds, sum(c is not None and len(c) == 19 for c in codes.tolist())


def _ours_chunked(conn: Any, xy: np.ndarray[Any, Any]) -> tuple[float, int]:
    repo = PgPlacementRepository(conn)
    started, found = time.perf_counter(), 0
    for lo in range(0, len(xy), CHUNK_ROWS):
        chunk = xy[lo : lo + CHUNK_ROWS]
        codes = repo.locate_xy(chunk[:, 0], chunk[:, 1])
        found += sum(c is not None and len(c) == 19 for c in codes.tolist())
        conn.commit()
    return time.perf_counter() - started, found


def _postgis_join(conn: Any, xy: np.ndarray[Any, Any]) -> tuple[float, int]:
    started = time.perf_counter()
    conn.execute("CREATE TEMP TABLE pts (id integer, geom geometry(Point, 4326))")
    with conn.cursor().copy("COPY pts (id, geom) FROM STDIN") as copy:
        for i, (x, y) in enumerate(xy):
            copy.write_row((i, f"SRID=4326;POINT({x} {y})"))
    conn.execute("CREATE TEMP TABLE hits AS SELECT p.id, b.code FROM pts p "
                 "JOIN twin.building b ON ST_Contains(b.footprint, p.geom)")  # fmt: skip
    (found,) = conn.execute("SELECT count(DISTINCT id) FROM hits").fetchone()
    seconds = time.perf_counter() - started
    conn.execute("DROP TABLE pts, hits")
    conn.commit()
    return seconds, found


def _footprints(conn: Any) -> tuple[list[str], np.ndarray[Any, Any]]:
    rows = conn.execute("SELECT code, ST_AsBinary(footprint) FROM twin.building").fetchall()
    return [r[0] for r in rows], shapely.from_wkb([r[1] for r in rows])


def _geopandas(conn: Any, xy: np.ndarray[Any, Any]) -> tuple[float, int]:
    import geopandas as gpd

    started = time.perf_counter()
    codes, geoms = _footprints(conn)
    polys = gpd.GeoDataFrame({"code": codes}, geometry=geoms, crs=4326)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=4326)
    joined = gpd.sjoin(pts, polys, predicate="within", how="inner")
    return time.perf_counter() - started, int(joined.index.nunique())


def _strtree(conn: Any, xy: np.ndarray[Any, Any]) -> tuple[float, int]:
    started = time.perf_counter()
    _, geoms = _footprints(conn)
    tree = shapely.STRtree(geoms)
    pts = shapely.points(xy)
    hits = tree.query(pts, predicate="within")
    return time.perf_counter() - started, int(np.unique(hits[0]).size)


def _sedonadb(conn: Any, xy: np.ndarray[Any, Any]) -> tuple[float, int]:
    import pyarrow as pa
    import sedonadb  # type: ignore[import-not-found]

    import geopandas as gpd

    started = time.perf_counter()
    codes, geoms = _footprints(conn)
    sd = sedonadb.connect()
    sd.create_data_frame(gpd.GeoDataFrame({"code": codes}, geometry=geoms, crs=4326)).to_view(
        "polys", overwrite=True
    )
    pts = gpd.GeoDataFrame({"id": np.arange(len(xy))},
                           geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=4326)  # fmt: skip
    sd.create_data_frame(pts).to_view("pts", overwrite=True)
    found = pa.table(sd.sql("SELECT count(DISTINCT pts.id) AS n FROM pts JOIN polys "
                            "ON ST_Intersects(polys.geometry, pts.geometry)"))  # fmt: skip
    return time.perf_counter() - started, int(found["n"][0].as_py())


def _pip(conn: Any, xy: np.ndarray[Any, Any], db_points: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    runs: list[tuple[str, Any, np.ndarray[Any, Any]]] = [
        ("placement_coordinate_path", _ours, xy),
        ("placement_chunks_as_twin_place", _ours_chunked, xy),
        ("postgis_insert_select_join", _postgis_join, xy[:db_points]),
        ("geopandas_sjoin", _geopandas, xy),
        ("shapely_strtree", _strtree, xy),
    ]
    if importlib.util.find_spec("sedonadb") is not None:
        runs.append(("sedonadb_join", _sedonadb, xy))
    for name, fn, pts in runs:
        seconds, found = fn(conn, pts)
        out[name] = {"points": len(pts), "seconds": round(seconds, 3),
                     "points_per_s": round(len(pts) / seconds), "in_a_building": found}  # fmt: skip
        print(name, out[name], flush=True)
    return out


def _truth(conn: Any, kind: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT t.source_id, t.messy_address, t.room_code, t.building_code FROM twin.synth_truth t "
        "WHERE t.record_kind = %s ORDER BY t.source_id", (kind,)
    ).fetchall()  # fmt: skip


def _tables(conn: Any, xy: np.ndarray[Any, Any]) -> dict[str, tuple[str, Table]]:
    people = _truth(conn, "person")
    companies = _truth(conn, "legal_entity")
    return {
        "people_by_address": ("person", Table(["id", "地址"], [[p[0], p[1]] for p in people])),
        "companies_by_code": ("company", Table(["id", "名称", "code"],
                                               [[c[0], "公司", c[2]] for c in companies])),
        "events_by_point": ("event", Table(["id", "事件类型", "发生时间", "lon", "lat"],
                            [[f"E{i}", "噪音扰民", "2025-05-01", float(x), float(y)]
                             for i, (x, y) in enumerate(xy[: len(people)])])),
    }  # fmt: skip


def _end_to_end(conn: Any, tables: dict[str, tuple[str, Table]], source: str) -> dict[str, Any]:
    """The new path: chunks prepared ahead, two geocoding processes forked once."""
    index = load_index(conn)
    conn.commit()
    out = {}
    with MatchPool(index, 2, details=False) as pool:
        for name, (kind, table) in tables.items():
            summary = place_table(conn, pool, table, kind=kind, source=source,
                                  actor="bench")  # fmt: skip
            out[name] = summary.as_dict()
            print(name, source, out[name]["rows_per_second"], flush=True)
    return out


#: The old path, the named baseline: placement as it was before one statement per batch
#: and the chunk ahead located and staged on a reading connection (five statements per batch
#: after the COPY, rows located and staged between two writes), run from a checkout of this
#: commit with the same geocoding pool (two processes), in its chunks of 20,000.
OLD_REV = "7b4b74e"
_OLD_SCRIPT = """
import contextlib, json, sys
from pathlib import Path
import numpy as np
from blocks.placement.points import PointLocator
from blocks.placement.service import place_table
from geocode.batch import read_table
from geocode.index import load_index
from geocode.pool import MatchPool
from twin.db.connect import connect
conninfo, source = sys.argv[1], sys.argv[2]
out = {}
with contextlib.closing(connect(conninfo)) as conn:
    index = load_index(conn)
    PointLocator(conn).locate_xy(np.array([[114.0, 22.6]] * 10))  # compile before timing
    conn.commit()
    with MatchPool(index, 2, details=False) as pool:
        for name in sys.argv[3:]:
            kind, path = name.split("=")
            s = place_table(conn, pool, read_table(Path(path)), kind=kind, source=source,
                            actor="bench")
            out[path] = s.as_dict()
print(json.dumps(out))
"""


def _old_path(
    conninfo: str, tables: dict[str, tuple[str, Table]], rows: int, source: str
) -> dict[str, Any]:
    """Run the old path on the first ``rows`` rows of each table, in a checkout of OLD_REV."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="place-old-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", str(tree),
                        OLD_REV], check=True, capture_output=True)  # fmt: skip
        try:
            args = []
            for name, (kind, table) in tables.items():
                path = Path(tmp) / f"{name}.parquet"
                frame = pd.DataFrame(table.rows[:rows], columns=table.columns)
                frame.astype(str).to_parquet(path)
                args.append(f"{kind}={path}")
            done = subprocess.run(
                [sys.executable, "-c", _OLD_SCRIPT, conninfo, source, *args], cwd=tree,
                env={**os.environ, "PYTHONPATH": str(tree)}, check=True, capture_output=True,
                text=True,
            )  # fmt: skip
            found = json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True)  # fmt: skip
    return {name: found[str(Path(tmp) / f"{name}.parquet")] for name in tables}


def _mean_rates(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The runs' records per second per table, averaged, with the runs themselves."""
    return {name: {"rows_per_second": round(sum(r[name]["rows_per_second"] for r in runs)
                                            / len(runs), 1),
                   "runs": [r[name] for r in runs]} for name in runs[0]}  # fmt: skip


def _old_beside_new(
    conn: Any, conninfo: str, tables: dict[str, tuple[str, Table]], rows: int
) -> dict[str, Any]:
    """Old and new paths on the same first ``rows`` rows of each table, as old, new, new,
    old (each under a source of its own): the tables grow as they run, so each path gets
    one earlier and one later turn; their rates are averaged."""
    head = {name: (kind, Table(table.columns, table.rows[:rows]))
            for name, (kind, table) in tables.items()}  # fmt: skip
    old, new = [_old_path(conninfo, tables, rows, "bench-old-1")], []
    print("old path", {k: v["rows_per_second"] for k, v in old[0].items()}, flush=True)
    new += [_end_to_end(conn, head, "bench-new-1"), _end_to_end(conn, head, "bench-new-2")]
    old.append(_old_path(conninfo, tables, rows, "bench-old-2"))
    print("old path", {k: v["rows_per_second"] for k, v in old[1].items()}, flush=True)
    return {"old": _mean_rates(old), "new": _mean_rates(new)}


def _on_dask(conninfo: str, tables: dict[str, tuple[str, Table]], workers: int) -> dict[str, Any]:
    """Events by point and people by address from CSV files on a local Dask cluster."""
    from blocks.placement.distributed import place_file
    from geocode.distributed import dask_client

    out = {}
    with tempfile.TemporaryDirectory(prefix="place-dask-") as tmp, \
            dask_client("local", workers) as client:  # fmt: skip
        for name in ("events_by_point", "people_by_address"):
            kind, table = tables[name]
            path = Path(tmp) / f"{name}.csv"
            pd.DataFrame(table.rows, columns=table.columns).to_csv(path, index=False)
            summary, _ = place_file(client, conninfo, path, kind=kind, source="bench-dask",
                                    actor="bench", columns={})  # fmt: skip
            out[name] = summary.as_dict() | {"workers": workers}
            print(name, "dask", out[name]["rows_per_second"], flush=True)
    return out


def _city(rates: dict[str, float]) -> dict[str, Any]:
    minutes = {
        "people_by_address_min": CITY_PEOPLE / rates["people_by_address"] / 60,
        "companies_by_code_min": CITY_COMPANIES / rates["companies_by_code"] / 60,
        "people_by_point_min": CITY_PEOPLE / rates["events_by_point"] / 60,
    }
    return {k: round(v, 1) for k, v in minutes.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=("small", "medium"), default="small")
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument(
        "--db-points",
        type=int,
        default=1_000_000,
        help="points given to the PostGIS join (the first ones)",
    )
    parser.add_argument(
        "--only-points",
        action="store_true",
        help="points in polygons only (bench/results/place-points.json)",
    )
    parser.add_argument(
        "--old-rows",
        type=int,
        default=100_000,
        help="rows of each kind given to the old path (its rate is steady)",
    )
    parser.add_argument(
        "--same-rows-only",
        action="store_true",
        help="leave out the new path on every record (the city from the same rows' rates)",
    )
    parser.add_argument(
        "--dask-workers",
        type=int,
        default=2,
        help="workers of the local Dask cluster (0: leave Dask out)",
    )
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    _, conninfo = scratch_database("twin_bench_place")
    with contextlib.closing(connect(conninfo)) as conn:
        load_admin(conn)
        conn.commit()
        generate(conn, DISTRICT, args.scale, 1, street=STREET if args.scale == "small" else None)
        conn.commit()
        (n_buildings,) = conn.execute("SELECT count(*) FROM twin.building").fetchone()
        xy = _points(conn, args.points, np.random.default_rng(7))
        conn.commit()
        pip = _pip(conn, xy, args.db_points)
        e2e: dict[str, Any] = {}
        if not args.only_points:
            tables = _tables(conn, xy)
            conn.commit()
            e2e |= _old_beside_new(conn, conninfo, tables, args.old_rows)
            if not args.same_rows_only:
                e2e["new_all"] = _end_to_end(conn, tables, "bench-new")
            if args.dask_workers:
                e2e["dask_local"] = _on_dask(conninfo, tables, args.dask_workers)
    ours = pip["placement_coordinate_path"]["points_per_s"]
    figures: dict[str, Any] = {
        "scale": args.scale, "buildings": n_buildings, "points": args.points,
        "points_in_polygons": pip,
        "ratio_ours_to_baselines": {k: round(ours / v["points_per_s"], 2)
                                    for k, v in pip.items() if k != "placement_coordinate_path"},
        "load_average_1min": {"before": round(load_before, 1),
                              "after": round(os.getloadavg()[0], 1)},
    }  # fmt: skip
    if args.only_points:
        write_results("place-points", figures)
        return
    rates = {k: v["rows_per_second"] for k, v in e2e.get("new_all", e2e["new"]).items()}
    old_rates = {k: v["rows_per_second"] for k, v in e2e["old"].items()}
    same_rows = {k: v["rows_per_second"] for k, v in e2e["new"].items()}
    figures |= {
        "end_to_end_records_per_s": e2e,
        "end_to_end_ratio_new_to_old": {k: round(same_rows[k] / old_rates[k], 2)
                                        for k in rates},
        "city_minutes": {
            "method": f"extrapolated from this run's end-to-end rates on {args.scale} "
                      f"({'the first ' + str(args.old_rows) if args.same_rows_only else 'all'} "
                      "rows of each table; 20 million people, 3 million companies; not "
                      "measured on the city)",
            "new": _city(rates), "old": _city(old_rates),
        },
        "load_average_1min": {"before": round(load_before, 1),
                              "after": round(os.getloadavg()[0], 1)},
    }  # fmt: skip
    write_results(f"place-{args.scale}", figures)


if __name__ == "__main__":
    main()
