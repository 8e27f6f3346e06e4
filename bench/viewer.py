"""Viewer load time on localhost: the app ready and the first view's 3D buildings drawn.

Run: ``.venv/bin/python -m bench.viewer [--rounds 4]`` after ``make demo`` (or ``twin demo``):
it reads the demo database of the project's cluster (``TWIN_HOME``, default ``.twin``; or
``--database-url``) and its 3D tileset, starts the API (``twin serve``) and loads ``/`` in
headless Debian Chromium (``/usr/bin/chromium`` driven by playwright-core, a fresh profile
for every load: a cold start), the same driver as ``tests/browser/viewer_browser.cjs``.

Two renderings, loaded alternately in the same run (``new, cesium, cesium, new, …``):

- ``new``: the viewer as shipped (the lighting's BRDF table computed by the page,
  order-independent translucency off);
- ``cesium``: the same page with ``?render=cesium``: CesiumJS's own BRDF table, drawn by the
  scene the first time a model is drawn, and order-independent translucency on — the viewer
  as it was.

For each: milliseconds from navigation to the app ready (boundaries drawn, panels usable)
and to the first view's buildings drawn, per load and the median; the ratio new / cesium
is what carries across machines (WebGL runs on the CPU here: SwiftShader). The issue's
target: loaded in under 3 seconds on localhost. Writes ``bench/results/viewer.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.common import api_server, write_results
from twin.db import migrate as migrations
from twin.db.cluster import LocalCluster
from twin.db.connect import connect
from twin.keys import create_key

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ROOT / "tests" / "browser" / "viewer_browser.cjs"
NODE_MODULES = ROOT / "web" / "node_modules"
CHROMIUM = Path("/usr/bin/chromium")
RENDERINGS = {"new": "", "cesium": "&render=cesium"}


def _demo_url() -> str:
    """Start the project's cluster and bring the demo database's schema up to date."""
    cluster = LocalCluster(Path(os.environ.get("TWIN_HOME", ROOT / ".twin")))
    cluster.up()
    with contextlib.closing(connect(cluster.conninfo(), autocommit=True)) as conn:
        migrations.migrate(conn)  # as `twin db up` does: the API refuses an old schema
    return cluster.url("twin")


def _check(url: str) -> int:
    with contextlib.closing(connect(url)) as conn:
        row = conn.execute("SELECT count(*) FROM twin.building").fetchone()
    buildings = int(row[0]) if row else 0
    if buildings == 0:
        raise SystemExit("no buildings in the database: run `make demo` (or `twin demo`) first")
    return buildings


def _key(url: str) -> str:
    with contextlib.closing(connect(url)) as conn:
        key, _ = create_key(conn, name="bench viewer", role="admin", created_by="bench")
        conn.commit()
    return key


def _load(node: str, base: str, key: str, extra: str, work: Path) -> dict[str, Any]:
    """Load the app once, cold (a fresh browser profile); return the driver's answer."""
    profile = Path(tempfile.mkdtemp(prefix="profile-", dir=work))
    opts = {
        "url": f"{base}/?api_key={key}{extra}", "chromium": str(CHROMIUM),
        "userDataDir": str(profile), "home": str(work), "shots": str(work),
        "allowedHost": "127.0.0.1", "steps": ["load"],
        "search": {}, "target": {}, "other": {},
    }  # fmt: skip
    run = subprocess.run(
        [node, str(DRIVER), json.dumps(opts)],
        env={"NODE_PATH": str(NODE_MODULES), "PATH": "/usr/bin:/bin", "HOME": str(work)},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    shutil.rmtree(profile, ignore_errors=True)
    try:
        answer: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise SystemExit(f"the browser driver failed: {run.stderr[-2000:]}") from None
    if "failure" in answer or answer.get("errors"):
        raise SystemExit(f"the page failed to load: {answer.get('failure')} {answer['errors']}")
    return answer


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", help="default: the demo database of TWIN_HOME's cluster")
    ap.add_argument("--rounds", type=int, default=4, help="loads of each rendering")
    args = ap.parse_args(argv)
    node = shutil.which("node")
    if node is None or not CHROMIUM.is_file() or not (NODE_MODULES / "playwright-core").is_dir():
        raise SystemExit("needs node, /usr/bin/chromium and web/node_modules: run `make install`")
    if not (ROOT / "web" / "dist" / "app" / "index.html").is_file():
        raise SystemExit("the viewer is not built: run `make web-deps`")
    url = args.database_url or _demo_url()
    buildings = _check(url)
    key = _key(url)
    loads: dict[str, list[dict[str, int]]] = {name: [] for name in RENDERINGS}
    load_before = os.getloadavg()[0]
    with api_server(url) as base, tempfile.TemporaryDirectory(prefix="bench-viewer-") as tmp:
        tileset = httpx.get(f"{base}/3dtiles/city/tileset.json",
                            headers={"Authorization": f"Bearer {key}"})  # fmt: skip
        if tileset.status_code != 200:
            raise SystemExit("no 3D tileset: run `twin demo` (or `twin models3d buildings`)")
        _load(node, base, key, "", Path(tmp))  # warm the server's caches, not the browser's
        order = [n for i in range(args.rounds)
                 for n in (("new", "cesium") if i % 2 == 0 else ("cesium", "new"))]  # fmt: skip
        for name in order:
            answer = _load(node, base, key, RENDERINGS[name], Path(tmp))
            loads[name].append({"ready_ms": answer["readyMs"], "buildings_ms": answer["loadedMs"]})
            print(f"{name:7} app ready {answer['readyMs']:>6} ms, "
                  f"buildings drawn {answer['loadedMs']:>6} ms")  # fmt: skip
    medians = {
        name: {m: statistics.median(x[m] for x in runs) for m in ("ready_ms", "buildings_ms")}
        for name, runs in loads.items()
    }
    figures = {
        "buildings_in_database": buildings,
        "rounds": args.rounds,
        "browser": "Debian Chromium, headless, WebGL 2 on the CPU (SwiftShader)",
        "loads": loads,
        "medians_ms": medians,
        "ratio_new_to_cesium": {
            m: round(medians["new"][m] / medians["cesium"][m], 2)
            for m in ("ready_ms", "buildings_ms")
        },
        "target_ms": 3000,
        "new_within_target": {m: medians["new"][m] < 3000 for m in ("ready_ms", "buildings_ms")},
        "load_average_1min": {
            "before": round(load_before, 1),
            "after": round(os.getloadavg()[0], 1),
        },
    }
    write_results("viewer", figures)


if __name__ == "__main__":
    main()
