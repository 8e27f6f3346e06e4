"""The city model: every building extruded into a 3D Tiles 1.1 tileset of glb tiles.

Each tile's glb holds one mesh of its buildings in a local east-north-up frame at the tile's
centre (the tile's ``transform`` carries it to ECEF; glTF's y-up is turned into z-up by the
client, as the 3D Tiles spec says). Every vertex carries ``_FEATURE_ID_0``, the row of its
building in the tile's ``EXT_structural_metadata`` property table (code, floors, height, use and
any aggregate columns), so a click identifies the building. ``manifest.json`` keeps a hash of
each tile's buildings: a rebuild writes only the tiles whose buildings changed.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import shapely

from models3d.buildings import Building, BuildingTable, check_table, table_from_buildings
from models3d.errors import TilesetError
from models3d.extrude import Prisms, extrude, merge, triangles
from models3d.geodesy import column_major, enu_frame, enu_to_gltf
from models3d.gltf import Column, FeatureTable, Mesh, write_glb
from models3d.tiles3d.output import read_manifest, reuse, staged_dir, write_json
from models3d.tiles3d.quadtree import TileNode, plan

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import NDArray

#: Changes whenever the glb layout changes, so that an upgrade rewrites every tile.
BUILDER_VERSION = "citymodel-2"
#: Below this many buildings to write, one process is faster than starting workers.
_PARALLEL_MIN = 20_000
_TABLE: BuildingTable | None = None


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    out: Path
    buildings: int
    tiles: int
    written: int
    reused: int
    seconds: float
    bytes_on_disk: int


def content_frame(table: BuildingTable, rows: NDArray[np.int64]) -> NDArray[np.float64]:
    """Return the ENU frame of a tile's content: its bounds' centre, at the lowest base."""
    bounds = shapely.total_bounds(table.footprints[rows])
    lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    return enu_frame(float(lon), float(lat), float(table.base_m[rows].min()))


def feature_table(table: BuildingTable, class_name: str = "building") -> FeatureTable:
    """Return the property table of a set of buildings (one row per building, in order)."""
    columns = [
        Column("code", table.codes.tolist(), description="building code"),
        Column("floors", table.floors, "UINT16", "storeys above ground"),
        Column("height_m", table.height_m, "FLOAT32", "height above the base (m)"),
        Column("use", table.uses.tolist(), description="use"),
    ]
    for name, values in sorted(table.extra.items()):
        if values.dtype.kind in "iub":
            columns.append(
                Column(name, values, "INT64" if np.abs(values).max(initial=0) >= 2**31 else "INT32")
            )
        elif values.dtype.kind == "f":
            columns.append(Column(name, values, "FLOAT64"))
        else:
            columns.append(Column(name, values.astype(str).tolist()))
    return FeatureTable(class_name, columns)


def tile_glb(table: BuildingTable, frame: NDArray[np.float64]) -> bytes:
    """One glb of buildings, extruded in ``frame`` (or their own meshes), with their table."""
    own = np.zeros(len(table), dtype=bool)
    if table.meshes is not None:
        own = np.array([m is not None for m in table.meshes], dtype=bool)
    parts = []
    if (~own).any():
        rows = np.flatnonzero(~own)
        part = extrude(
            table.footprints[rows], table.base_m[rows], (table.base_m + table.height_m)[rows], frame
        )
        parts.append(Prisms(part.positions, part.normals, part.indices, rows[part.feature_ids]))
    if own.any() and table.meshes is not None:
        rows = np.flatnonzero(own)
        parts.append(triangles([table.meshes[r] for r in rows], rows.tolist(), frame))
    prisms = merge(parts)
    mesh = Mesh(
        positions=enu_to_gltf(prisms.positions),
        normals=enu_to_gltf(prisms.normals),
        indices=prisms.indices,
        feature_ids=prisms.feature_ids.astype(np.float32),
    )
    return write_glb(mesh, feature_table(table))


def tile_hash(table: BuildingTable, rows: NDArray[np.int64]) -> str:
    """Hash everything that goes into a tile's glb."""
    sub = table.take(rows)
    digest = hashlib.sha256(BUILDER_VERSION.encode())
    digest.update("\0".join(sub.codes.tolist()).encode())
    digest.update(b"".join(shapely.to_wkb(sub.footprints, output_dimension=2)))
    for arr in (sub.height_m, sub.floors, sub.base_m):
        digest.update(np.ascontiguousarray(arr).tobytes())
    digest.update("\0".join(sub.uses.tolist()).encode())
    for name, values in sorted(sub.extra.items()):
        digest.update(name.encode() + b"=" + "\0".join(map(str, values.tolist())).encode())
    if sub.meshes is not None:
        for mesh in sub.meshes:
            digest.update(b"-" if mesh is None else np.ascontiguousarray(mesh).tobytes())
    return digest.hexdigest()


def _write_tile(job: tuple[str, NDArray[np.int64], str]) -> int:
    path, rows, _hash = job
    assert _TABLE is not None
    raw = tile_glb(_TABLE.take(rows), content_frame(_TABLE, rows))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(raw)
    return len(raw)


def _write_tiles(
    table: BuildingTable, jobs: list[tuple[str, NDArray[np.int64], str]], workers: int
) -> None:
    global _TABLE
    _TABLE = table
    try:
        todo = sum(len(rows) for _, rows, _ in jobs)
        if workers <= 1 or todo < _PARALLEL_MIN or len(jobs) < 2:
            for job in jobs:
                _write_tile(job)
            return
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            list(pool.map(_write_tile, jobs, chunksize=1))
    finally:
        _TABLE = None


def _tile_json(
    node: TileNode, parent: NDArray[np.float64] | None, frames: dict[str, NDArray[np.float64]]
) -> dict[str, Any]:
    """Describe a tile and its children; ``parent`` is the accumulated transform above it."""
    w, s, e, n, lo, hi = node.region
    doc: dict[str, Any] = {
        "boundingVolume": {"region": [float(v) for v in np.radians([w, s, e, n])] + [lo, hi]},
        "geometricError": node.geometric_error,
        "refine": "ADD",
    }
    world = parent
    if node.has_content:
        frame = frames[node.uri]
        local = frame if parent is None else np.linalg.solve(parent, frame)
        doc["content"] = {"uri": node.uri}
        doc["transform"] = column_major(np.asarray(local, dtype=np.float64))
        world = frame
    if node.children:
        doc["children"] = [_tile_json(child, world, frames) for child in node.children]
    return doc


def tileset_json(
    root: TileNode, frames: dict[str, NDArray[np.float64]], top_error: float
) -> dict[str, Any]:
    """Return the tileset.json document of a planned tree whose content frames are ``frames``."""
    return {
        "asset": {"version": "1.1", "generator": f"citytwin {BUILDER_VERSION}"},
        "geometricError": top_error,
        "root": _tile_json(root, None, frames),
    }


def build_city_tileset(
    buildings: Iterable[Building] | BuildingTable,
    out: Path,
    *,
    max_features: int = 1000,
    workers: int | None = None,
) -> BuildReport:
    """Extrude buildings into a 3D Tiles 1.1 tileset at ``out`` (replaced atomically).

    Parameters
    ----------
    buildings
        The buildings, as :class:`~models3d.buildings.Building` rows or a table.
    out
        The tileset folder; tiles unchanged since the last build there are reused.
    max_features
        Most buildings in one tile.
    workers
        Processes that write tiles (default: up to two, for large builds).

    Returns
    -------
    BuildReport
        Counts of tiles written and reused, time and size.

    Raises
    ------
    TilesetError
        When there is no building to build.
    GeometryError
        On an empty footprint or an absurd height.
    """
    started = time.perf_counter()
    if isinstance(buildings, BuildingTable):
        table = buildings
        check_table(table)
    else:
        table = table_from_buildings(buildings)
    if len(table) == 0:
        raise TilesetError(
            "there are no buildings to build a city model from: load buildings first"
        )
    root = plan(table, max_features)
    nodes = [node for node in root.walk() if node.has_content]
    old_hashes, out = read_manifest(out), Path(out)
    hashes = {node.uri: tile_hash(table, node.rows) for node in nodes}
    frames = {node.uri: content_frame(table, node.rows) for node in nodes}
    with staged_dir(out) as tmp:
        jobs = []
        for node in nodes:
            if old_hashes.get(node.uri) == hashes[node.uri] and (out / node.uri).is_file():
                reuse(out / node.uri, tmp / node.uri)
            else:
                jobs.append((str(tmp / node.uri), node.rows, hashes[node.uri]))
        _write_tiles(table, jobs, workers if workers is not None else min(2, os.cpu_count() or 1))
        top = max(root.geometric_error, float(table.height_m.max())) * 2
        write_json(tmp / "tileset.json", tileset_json(root, frames, top))
        write_json(tmp / "manifest.json", {"builder": BUILDER_VERSION, "tiles": hashes})
        size = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
    return BuildReport(
        out,
        len(table),
        len(nodes),
        len(jobs),
        len(nodes) - len(jobs),
        time.perf_counter() - started,
        size,
    )
