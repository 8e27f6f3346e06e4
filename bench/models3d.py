"""3D models benchmark: buildings extruded and tiled per second; point clouds vs py3dtiles.

One command, one run: ``python -m bench.models3d [--buildings 50000] [--points 3000000]``.

- City model: synthetic L-shaped footprints over a 30 × 20 km district, built into a 3D Tiles
  tileset with two worker processes; the rate is extrapolated to Shenzhen's 660,000 buildings.
  A rebuild with nothing changed and one after a single building's edit are timed too.
- Point cloud: a LAS of a few million points made by tiling and jittering autzen_trim.laz, then
  converted by ``twin 3d import-las`` and by ``py3dtiles convert --jobs 2`` (PyPI py3dtiles,
  in its own virtual environment, created on first use), each in its own process tree whose
  peak resident memory (summed over the tree) is sampled from /proc every 50 ms.

Writes bench/results/models3d.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

import shapely

from bench.common import write_results
from models3d.buildings import BuildingTable
from models3d.tiles3d.citymodel import build_city_tileset

ROOT = Path(__file__).resolve().parents[1]
AUTZEN = ROOT / "data" / "samples" / "las" / "autzen_trim.laz"
AUTZEN_CRS = "EPSG:2994"  # NAD83(HARN) / Oregon GIC Lambert (ft), as autzen's GeoTIFF keys say
PY3DTILES_VENV = Path.home() / ".cache" / "citytwin" / "py3dtiles-venv"
SHENZHEN_BUILDINGS = 660_000


def synthetic_buildings(n: int, seed: int = 7) -> BuildingTable:
    rng = np.random.default_rng(seed)
    cx = 113.8 + rng.random(n) * 0.3
    cy = 22.5 + rng.random(n) * 0.2
    w = 1e-4 * (0.3 + rng.random(n))
    h = 1e-4 * (0.3 + rng.random(n))
    corners = [
        (cx - w, cy - h),
        (cx + w, cy - h),
        (cx + w, cy),
        (cx, cy),
        (cx, cy + h),
        (cx - w, cy + h),
    ]
    return BuildingTable(
        codes=np.array([f"44030600100101{i:05d}" for i in range(n)]),
        footprints=shapely.polygons(np.stack([np.stack(c, axis=1) for c in corners], axis=1)),
        height_m=np.round(3 + rng.gamma(2.0, 12.0, n), 1).clip(3, 500),
        floors=rng.integers(1, 40, n).astype(np.int32),
        uses=np.array(["residential", "commercial", "industrial"])[rng.integers(0, 3, n)],
        base_m=np.zeros(n),
        extra={"people": rng.integers(0, 800, n)},
    )


def bench_buildings(n: int, work: Path) -> dict[str, object]:
    table = synthetic_buildings(n)
    out = work / "city"
    first = build_city_tileset(table, out, workers=2)
    same = build_city_tileset(table, out, workers=2)
    table.height_m[123] += 1.0
    edit = build_city_tileset(table, out, workers=2)
    rate = n / first.seconds
    return {
        "buildings": n,
        "tiles": first.tiles,
        "seconds": round(first.seconds, 2),
        "buildings_per_second": round(rate),
        "extrapolated_660k_seconds": round(SHENZHEN_BUILDINGS / rate, 1),
        "tileset_bytes": first.bytes_on_disk,
        "bytes_per_building": round(first.bytes_on_disk / n),
        "rebuild_unchanged_seconds": round(same.seconds, 2),
        "rebuild_one_edit_seconds": round(edit.seconds, 2),
        "rebuild_one_edit_tiles_written": edit.written,
    }


def make_las(points: int, path: Path) -> int:
    """Tile and jitter autzen_trim.laz into a LAS of about ``points`` points."""
    import laspy

    src = laspy.read(AUTZEN)
    copies = max(1, round(points / len(src.points)))
    side = int(np.ceil(np.sqrt(copies)))
    width = float(src.header.maxs[0] - src.header.mins[0]) + 10
    height = float(src.header.maxs[1] - src.header.mins[1]) + 10
    header = laspy.LasHeader(point_format=3, version="1.2")
    header.scales, header.offsets = src.header.scales, src.header.offsets
    rng = np.random.default_rng(3)
    with laspy.open(path, mode="w", header=header) as writer:
        for k in range(copies):
            chunk = laspy.ScaleAwarePointRecord.zeros(len(src.points), header=header)
            for name in ("intensity", "classification", "red", "green", "blue", "return_number"):
                chunk[name] = src[name]
            chunk.x = src.x + (k % side) * width + rng.normal(0, 0.2, len(src.points))
            chunk.y = src.y + (k // side) * height + rng.normal(0, 0.2, len(src.points))
            chunk.z = src.z + rng.normal(0, 0.1, len(src.points))
            writer.write_points(chunk)
    return copies * len(src.points)


def _tree_rss(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                total += (
                    next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
                    * 1024
                )
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total


def run_measured(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident bytes of a command's whole process tree."""
    peak = 0
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def sample() -> None:
        nonlocal peak
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)

    watcher = threading.Thread(target=sample)
    watcher.start()
    _, err = proc.communicate()
    watcher.join()
    if proc.returncode:
        raise RuntimeError(f"{cmd[0]} failed: {err[-800:]}")
    return time.perf_counter() - started, peak


def py3dtiles() -> Path:
    exe = Path(os.environ.get("PY3DTILES", PY3DTILES_VENV / "bin" / "py3dtiles"))
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PY3DTILES_VENV)], check=True)
        subprocess.run(
            [str(PY3DTILES_VENV / "bin" / "pip"), "install", "-q", "py3dtiles[las]"], check=True
        )
    return exe


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _figures(n: int, seconds: float, rss: int, out: Path) -> dict[str, object]:
    return {
        "seconds": round(seconds, 2),
        "points_per_second": round(n / seconds),
        "peak_rss_mb": round(rss / 2**20),
        "tileset_bytes": _size(out),
    }


def bench_points(points: int, work: Path) -> dict[str, object]:
    las = work / "autzen_tiled.las"
    n = make_las(points, las)
    ours_out, theirs_out = work / "ours", work / "py3dtiles"
    ours = [sys.executable, "-m", "twin.cli.main", "3d", "import-las", str(las)]
    ours_s, ours_rss = run_measured([*ours, "--crs", AUTZEN_CRS, "--out", str(ours_out)])
    theirs = [str(py3dtiles()), "convert", str(las), "--out", str(theirs_out), "--jobs", "2"]
    epsg = AUTZEN_CRS.split(":")[1]
    options = ["--srs_in", epsg, "--srs_out", "4978", "--spec-version", "1.1", "--overwrite"]
    theirs_s, theirs_rss = run_measured([*theirs, *options])
    return {
        "points": n,
        "las_bytes": las.stat().st_size,
        "citytwin": _figures(n, ours_s, ours_rss, ours_out),
        "py3dtiles_jobs2": _figures(n, theirs_s, theirs_rss, theirs_out),
        "speedup": round(theirs_s / ours_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=50_000)
    parser.add_argument("--points", type=int, default=3_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-models3d-"))
    try:
        figures = {
            "city_model": bench_buildings(args.buildings, work),
            "point_cloud": bench_points(args.points, work),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results("models3d", figures)


if __name__ == "__main__":
    main()
