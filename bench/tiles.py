"""Benchmark of the vector tiles: our server against tipg and the raw SQL, same data, same run.

Run: ``.venv/bin/python -m bench.tiles [--large] [--seed 1] [--per-zoom 100]``

Generates Bao'an (440306) with the project's generator into a database of the project's
cluster — ``medium`` scale (about 20,000 buildings) by default, ``city`` scale with
``--large`` (about 200,000) — and reuses it when a finished run is already there. Then, on
one tile list (z12-17: every z12 tile holding buildings, and up to ``--per-zoom`` tiles of
each deeper zoom drawn where the buildings are), with 8 concurrent clients on loopback:

- **raw SQL** (the floor): one ``ST_AsMVT`` query per tile over ``twin.building`` — project
  the footprint, clip it, encode it — with the attributes tipg is asked for, on 8 direct
  connections, no HTTP; and our layer's own queries the same way (``citytwin_sql``), which
  shows what HTTP and the server add;
- **tipg** (PyPI ``tipg`` with ``uvicorn[standard]`` like ours, installed on first use in
  ``bench/.venv-tipg``, a virtual environment of its own), started with uvicorn on
  127.0.0.1 against the same database and the same table (``twin.building``, its footprint
  column), without its per-tile feature limit, with the same clipping buffer;
- **citytwin** (``uvicorn api.asgi:app``, one process like tipg), layer ``buildings``, with
  a planner's key: a cold pass (empty tile cache) and a warm pass (every tile cached).

Each system first serves (or queries) other tiles of the same zooms, unmeasured, so that its
connections are warm but none of the measured tiles is cached; PostgreSQL's buffers are warmed
for everyone by a first, unmeasured pass of the raw SQL. The passes run zoom by zoom, the
systems taking turns at each zoom, so that a machine whose load varies weighs on them alike
(tiles/s per zoom and in all; p50 and p99 latency; bytes per tile, raw and as sent). The
uncached comparison with tipg takes tipg's better pass. Every tile of every system is
decoded with ``mapbox-vector-tile`` and its building codes compared with the database's.
Targets (issue #7): uncached z15-16 within 1.5x the raw SQL time; at least twice tipg's
throughput uncached; cached p99 under 5 ms.
Writes bench/results/tiles.json (``--large``: tiles-large.json).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench.common import api_server, free_port, scratch_database, write_results
from twin.db import migrate as migrations
from twin.db.cluster import LocalCluster
from twin.db.connect import connect

ROOT = Path(__file__).resolve().parents[1]
TIPG_VENV = ROOT / "bench" / ".venv-tipg"
CLIENTS = 8
ZOOMS = range(12, 18)
#: The attributes asked of tipg and selected by the raw SQL: our layer's own, less counts.
PROPERTIES = ("code", "name", "floors", "height_m", "use", "grid_code")
#: The floor: what a tile server does per tile, written by hand.
RAW_SQL = """
SELECT ST_AsMVT(t, 'building', 4096, 'geom') FROM (
    SELECT ST_AsMVTGeom(ST_Transform(b.footprint, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s),
                        4096, 64, true) AS geom,
           b.code, b.name, b.floors, b.height_m, b.use, b.grid_code
    FROM twin.building AS b
    WHERE b.footprint && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s,
                                                      margin => 64.0 / 4096), 4326)
) AS t
"""
#: The database's answer: the buildings that reach a tile (what each tile must hold).
TRUTH_SQL = """
SELECT coalesce(array_agg(code), '{}') FROM twin.building
WHERE footprint_3857 && ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s)
  AND ST_AsMVTGeom(footprint_3857, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 64, true)
      IS NOT NULL
"""

Tile = tuple[int, int, int]


@dataclass
class Fetched:
    """One tile as a client got it."""

    seconds: float
    status: int
    body: bytes
    gzipped: bool = False
    cache: str = ""


@dataclass
class Pass:
    """One pass over the tile list: results per tile and wall time per zoom."""

    results: dict[Tile, Fetched] = field(default_factory=dict)
    wall_s: dict[int, float] = field(default_factory=dict)


# --- data ---------------------------------------------------------------------------------


def prepare_data(scale: str, seed: int) -> tuple[LocalCluster, str]:
    """Return the cluster and database of a finished generator run, generating it if needed."""
    from twin.load.admin import load_admin
    from twin.synth.run import generate

    name = f"twin_bench_tiles_{scale}_{seed}"
    cluster = LocalCluster(Path(os.environ.get("TWIN_HOME", ".twin")))
    cluster.up()
    conninfo = cluster.create_database(name)
    with contextlib.suppress(psycopg.Error), connect(conninfo, autocommit=True) as conn:
        migrations.migrate(conn)
        done = conn.execute(
            "SELECT 1 FROM twin.synth_run WHERE district = '440306' AND scale = %s "
            "AND seed = %s AND status = 'done'",
            (scale, seed),
        ).fetchone()
        if done:
            print(f"reusing {name}", file=sys.stderr)
            return cluster, conninfo
    print(f"generating Bao'an at {scale} scale into {name} …", file=sys.stderr)
    cluster, conninfo = scratch_database(name)
    with connect(conninfo) as conn:
        load_admin(conn)
        conn.commit()
        generate(conn, "440306", scale, seed, workers=2, conninfo=conninfo)
    with connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return cluster, conninfo


def tile_list(conninfo: str, per_zoom: int, seed: int) -> tuple[list[Tile], list[Tile]]:
    """Return the measured tiles and the warm-up tiles (others, up to 10 per zoom).

    Measured: every z12 tile holding buildings, and up to ``per_zoom`` tiles of each deeper
    zoom, drawn where the buildings are.
    """
    rng = random.Random(seed)
    out: list[Tile] = []
    warm: list[Tile] = []
    with connect(conninfo) as conn:
        for z in ZOOMS:
            rows = conn.execute(
                "SELECT DISTINCT floor((ST_X(c) + 20037508.342789244) / s)::int, "
                "floor((20037508.342789244 - ST_Y(c)) / s)::int FROM (SELECT "
                "ST_PointOnSurface(footprint_3857) AS c, 40075016.685578488 / (1 << %s) AS s "
                "FROM twin.building) AS p ORDER BY 1, 2",
                (z,),
            ).fetchall()
            rng.shuffle(rows)
            chosen = rows if z == ZOOMS[0] else rows[:per_zoom]
            out += sorted((z, x, y) for x, y in chosen)
            warm += [(z, x, y) for x, y in rows[len(chosen) : len(chosen) + 10]]
    return out, warm


def truth(conninfo: str, tiles: list[Tile], buffer: int = 64) -> dict[Tile, set[str]]:
    """Return the codes of the buildings that reach each tile and its clipping buffer (of
    ``buffer`` units in 4096), as the database says."""
    with connect(conninfo) as conn:
        return {
            t: set(
                conn.execute(
                    TRUTH_SQL, {**dict(zip("zxy", t, strict=True)), "margin": buffer / 4096}
                ).fetchone()[0]
            )
            for t in tiles
        }


# --- clients ------------------------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, headers, await reader.readexactly(int(headers["content-length"]))
    body = b""
    while size := int((await reader.readline()).strip() or b"0", 16):  # chunked
        body += await reader.readexactly(size)
        await reader.readline()
    await reader.readline()
    return status, headers, body


class Client:
    """Eight (``CLIENTS``) keep-alive connections to one system; ``get`` times one tile."""

    async def open(self) -> None:
        """Open the connections."""

    async def get(self, i: int, tile: Tile) -> Fetched:
        """Fetch one tile on connection ``i``."""
        raise NotImplementedError

    async def close(self) -> None:
        """Close the connections."""


class HttpClient(Client):
    """A server on 127.0.0.1:port, HTTP/1.1 keep-alive, gzip accepted."""

    def __init__(self, port: int, path: Any, headers: dict[str, str]) -> None:
        self.port, self.path = port, path
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def open(self) -> None:
        """Open the connections."""
        self.conns = [await asyncio.open_connection("127.0.0.1", self.port) for _ in range(CLIENTS)]

    async def get(self, i: int, tile: Tile) -> Fetched:
        """Fetch one tile on connection ``i``."""
        reader, writer = self.conns[i]
        clock = time.perf_counter()
        head = f"GET {self.path(tile)} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.extra}\r\n"
        writer.write(head.encode())
        status, got, body = await _read_response(reader)
        gzipped = got.get("content-encoding") == "gzip"
        return Fetched(
            time.perf_counter() - clock, status, body, gzipped, got.get("x-tile-cache", "")
        )

    async def close(self) -> None:
        """Close the connections."""
        for _, writer in self.conns:
            writer.close()


class SqlClient(Client):
    """Direct connections, no HTTP: the raw SQL, or (``ours``) our layer's own queries."""

    def __init__(self, url: str, ours: bool) -> None:
        self.url, self.ours = url, ours
        self.conns: list[psycopg.AsyncConnection[Any]] = []

    async def open(self) -> None:
        """Open the connections."""
        self.conns = [
            await psycopg.AsyncConnection.connect(self.url, autocommit=True) for _ in range(CLIENTS)
        ]

    async def get(self, i: int, tile: Tile) -> Fetched:
        """Build one tile on connection ``i``."""
        from tiles.audience import Audience
        from tiles.layers import LAYERS
        from tiles.source import fetch_tile
        from tiles.tms import TileCoord

        clock = time.perf_counter()
        if self.ours:
            body = await fetch_tile(
                self.conns[i], (LAYERS["buildings"],), TileCoord(*tile), Audience(5)
            )
        else:
            cur = await self.conns[i].execute(RAW_SQL, dict(zip("zxy", tile, strict=True)))
            row = await cur.fetchone()
            body = bytes(row[0]) if row and row[0] is not None else b""
        return Fetched(time.perf_counter() - clock, 200, body)

    async def close(self) -> None:
        """Close the connections."""
        for conn in self.conns:
            await conn.close()


async def _serve_all(client: Client, tiles: list[Tile], into: Pass | None) -> float:
    """Fetch tiles with every connection of a client at once; return the wall time."""
    todo = iter(tiles)

    async def worker(i: int) -> None:
        for tile in todo:
            got = await client.get(i, tile)
            if into is not None:
                into.results[tile] = got

    clock = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(CLIENTS)))
    return time.perf_counter() - clock


async def measure(
    clients: dict[str, Client], rounds: list[list[tuple[str, str]]], warm: list[Tile],
    tiles: list[Tile],
) -> dict[str, Pass]:  # fmt: skip
    """Warm every client up on ``warm``, then run each round zoom by zoom, the systems of a
    round taking turns at each zoom (so that the machine's load, which varies, weighs on them
    alike). A round is a list of (pass name, client name)."""
    for client in clients.values():
        await client.open()
    for client in clients.values():
        await _serve_all(client, warm, None)
    passes: dict[str, Pass] = {}
    for turn in rounds:
        for z in ZOOMS:
            at_z = [t for t in tiles if t[0] == z]
            for name, client_name in turn:
                p = passes.setdefault(name, Pass())
                p.wall_s[z] = await _serve_all(clients[client_name], at_z, p)
    for client in clients.values():
        await client.close()
    return passes


def _run(coro: Any) -> Any:
    """Run a client coroutine on uvloop (the servers' own loop too): a lighter client leaves
    more of the machine to the systems measured."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


# --- servers ------------------------------------------------------------------------------


def ensure_tipg() -> Path:
    """Return tipg's virtual environment's uvicorn, installing tipg there on first use."""
    uvicorn = TIPG_VENV / "bin" / "uvicorn"
    if not uvicorn.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        pip = TIPG_VENV / "bin" / "pip"
        subprocess.run([str(pip), "install", "-q", "tipg", "uvicorn[standard]"], check=True)
    return uvicorn


@contextlib.contextmanager
def tipg_server(env: dict[str, str], port: int) -> Iterator[None]:
    """Run tipg (uvicorn, one process) on 127.0.0.1:port until the block ends."""
    argv = [str(ensure_tipg()), "tipg.main:app", "--log-level", "warning"]
    proc = subprocess.Popen(
        [*argv, "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "exited")
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                    if s.recv(12).startswith(b"HTTP/1.1 200"):
                        break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"server on port {port} did not start")
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


TIPG_ENV = {
    "TIPG_DB_SCHEMAS": '["twin"]',
    "TIPG_DB_TABLES": '["twin.building"]',
    "TIPG_MAX_FEATURES_PER_TILE": "10000000",
    "TIPG_TILE_BUFFER": "64",
    "TIPG_SET_MVT_LAYERNAME": "true",
    "TIPG_DB_MAX_CONN_SIZE": str(CLIENTS),
}
TIPG_QUERY = "?geom-column=footprint&properties=" + ",".join(PROPERTIES)


def run_all(url: str, conninfo: str, warm: list[Tile], tiles: list[Tile]) -> dict[str, Pass]:
    """Start tipg and our server, then measure every system in the same rounds."""
    from twin.keys import create_key

    with connect(conninfo) as conn:
        key, _ = create_key(conn, name="bench tiles", role="planner", created_by="bench")
        conn.commit()
    tipg_port = free_port()
    with tipg_server({**TIPG_ENV, "DATABASE_URL": url}, tipg_port), api_server(url) as base:
        gz = {"Accept-Encoding": "gzip"}
        clients: dict[str, Client] = {
            "raw": SqlClient(url, ours=False),
            "ours_sql": SqlClient(url, ours=True),
            "tipg": HttpClient(
                tipg_port,
                lambda t: (
                    f"/collections/twin.building/tiles/WebMercatorQuad/"
                    f"{t[0]}/{t[1]}/{t[2]}{TIPG_QUERY}"
                ),
                gz,
            ),
            "ours": HttpClient(
                int(base.rsplit(":", 1)[1]),
                lambda t: f"/tiles/buildings/{t[0]}/{t[1]}/{t[2]}.mvt",
                {**gz, "Authorization": f"Bearer {key}"},
            ),
        }
        rounds = [
            [("raw_sql", "raw"), ("citytwin_sql", "ours_sql"), ("tipg_first", "tipg"),
             ("citytwin_cold", "ours")],
            [("tipg_second", "tipg"), ("citytwin_warm", "ours")],
        ]  # fmt: skip
        return _run(measure(clients, rounds, warm, tiles))


# --- figures ------------------------------------------------------------------------------


def _raw(f: Fetched) -> bytes:
    return gzip.decompress(f.body) if f.gzipped else f.body


def _pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def summarise(p: Pass, zooms: range | tuple[int, ...]) -> dict[str, Any]:
    """Tiles/s, p50/p99 (ms) and bytes per tile of a pass over some zooms."""
    got = [f for t, f in p.results.items() if t[0] in zooms]
    ms = [f.seconds * 1000 for f in got]
    wall = sum(p.wall_s[z] for z in zooms)
    return {
        "tiles": len(got),
        "tiles_per_s": round(len(got) / wall, 1) if wall else None,
        "mean_ms": round(statistics.fmean(ms), 2),
        "p50_ms": round(_pct(ms, 50), 2),
        "p99_ms": round(_pct(ms, 99), 2),
        "bytes_per_tile_raw": round(statistics.fmean(len(_raw(f)) for f in got)),
        "bytes_per_tile_sent": round(statistics.fmean(len(f.body) for f in got)),
        "errors": sum(f.status != 200 for f in got),
    }


def check(p: Pass, expected: dict[Tile, set[str]], layer: str) -> dict[str, Any]:
    """Decode every tile; count those whose building codes differ from the database's."""
    import mapbox_vector_tile

    wrong: list[str] = []
    features = 0
    for tile, f in sorted(p.results.items()):
        raw = _raw(f)
        decoded = mapbox_vector_tile.decode(raw) if raw else {}
        feats = decoded.get(layer, {}).get("features", [])
        features += len(feats)
        codes = {ft["properties"].get("code") for ft in feats}
        if None in codes:  # attributes trimmed at this zoom: the count must match
            codes = expected[tile] if len(feats) == len(expected[tile]) else set()
        if len(feats) != len(expected[tile]) or codes != expected[tile]:
            wrong.append(f"{tile[0]}/{tile[1]}/{tile[2]}: {len(feats)} vs {len(expected[tile])}")
    return {"tiles_decoded": len(p.results), "features": features, "mismatches": wrong[:10],
            "mismatched_tiles": len(wrong)}  # fmt: skip


def report(passes: dict[str, Pass]) -> dict[str, Any]:
    """Per system and pass: all zooms, z12-13, z15-16 and each zoom."""
    out: dict[str, Any] = {}
    for name, p in passes.items():
        out[name] = {
            "all": summarise(p, ZOOMS),
            "z12_13": summarise(p, (12, 13)),
            "z15_16": summarise(p, (15, 16)),
            "per_zoom": {str(z): summarise(p, (z,)) for z in ZOOMS},
        }
    return out


def targets(fig: dict[str, Any]) -> dict[str, Any]:
    """The issue's three targets, measured."""
    ours, raw = fig["citytwin_cold"], fig["raw_sql"]
    # tipg's better pass: the comparison is as favourable to it as this run allows.
    tipg = max(fig["tipg_first"], fig["tipg_second"], key=lambda p: p["all"]["tiles_per_s"])
    ratio_raw = ours["z15_16"]["mean_ms"] / raw["z15_16"]["mean_ms"]
    ratio_tipg = ours["all"]["tiles_per_s"] / tipg["all"]["tiles_per_s"]
    p99 = fig["citytwin_warm"]["all"]["p99_ms"]
    return {
        "uncached_z15_16_time_vs_raw_sql": {"ratio": round(ratio_raw, 2), "target": "<= 1.5",
                                            "met": ratio_raw <= 1.5},
        "uncached_throughput_vs_tipg": {"ratio": round(ratio_tipg, 2), "target": ">= 2",
                                        "met": ratio_tipg >= 2},
        "cached_p99_ms": {"value": p99, "target": "< 5", "met": p99 < 5},
    }  # fmt: skip


def main() -> None:
    """Run the benchmark and write bench/results/tiles.json."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--large", action="store_true", help="city scale: about 200,000 buildings")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-zoom", type=int, default=100, help="tiles per zoom from z13 on")
    args = ap.parse_args()
    scale = "city" if args.large else "medium"
    cluster, conninfo = prepare_data(scale, args.seed)
    dbname = conninfo.rsplit("dbname=", 1)[1]
    url = cluster.url(dbname)
    tiles, warm = tile_list(conninfo, args.per_zoom, args.seed)
    expected = truth(conninfo, tiles)
    unbuffered = truth(conninfo, tiles, buffer=0)
    with connect(conninfo) as conn:
        buildings = conn.execute("SELECT count(*) FROM twin.building").fetchone()[0]
    print(f"{buildings:,} buildings, {len(tiles)} tiles; loadavg {os.getloadavg()}",
          file=sys.stderr)  # fmt: skip
    load_before = os.getloadavg()
    # PostgreSQL's buffers, for everyone: a first, unmeasured pass of the raw SQL.
    _run(measure({"raw": SqlClient(url, ours=False)}, [[("buffers", "raw")]], [], tiles))
    passes = run_all(url, conninfo, warm, tiles)
    load_after = os.getloadavg()
    fig = report(passes)
    checks = {
        "raw_sql": check(passes["raw_sql"], expected, "building"),
        "tipg": check(passes["tipg_first"], expected, "building"),
        # tipg selects the rows meeting the tile itself, not its clipping buffer.
        "tipg_without_buffer": check(passes["tipg_first"], unbuffered, "building"),
        "citytwin": check(passes["citytwin_cold"], expected, "buildings"),
    }
    write_results(
        "tiles-large" if args.large else "tiles",
        {
            "data": {"district": "440306", "scale": scale, "seed": args.seed,
                     "buildings": buildings},
            "tiles": {str(z): sum(t[0] == z for t in tiles) for z in ZOOMS},
            "clients": CLIENTS,
            "load_average": {"before": [round(v, 2) for v in load_before],
                             "after": [round(v, 2) for v in load_after]},
            "targets": targets(fig),
            "checks": checks,
            "figures": fig,
        },
    )  # fmt: skip


if __name__ == "__main__":
    main()
