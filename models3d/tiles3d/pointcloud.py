"""Point clouds to 3D Tiles 1.1: an adaptive quadtree of glb ``POINTS`` tiles, in bounded memory.

Three streaming passes, none holding the cloud in memory:

1. count points on a 1024 × 1024 grid over the header's bounds (x, y only);
2. grow a quadtree from the counts: a cell splits while it holds more than ``leaf_points``;
3. read again, place each point in its ENU frame and give it a level of detail: a point of a
   leaf at depth *d* lands in the leaf with probability 3/4, in its parent with 3/16, and so on
   (a geometric draw), so that every tile holds about the same number of points and
   ``refine: ADD`` shows a uniform thinning of the cloud from afar. Points are appended to
   per-tile spill files whenever the in-memory buffers pass ``memory_mb``;

then each tile's spill file becomes a glb with ``POSITION``, ``COLOR_0`` and a feature ID per
point that indexes a property table of the tile's ASPRS classes (code and name).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models3d.errors import PointCloudError
from models3d.geodesy import column_major, enu_to_gltf
from models3d.gltf import POINTS, Column, FeatureTable, Mesh, write_glb
from models3d.las import POINT_DTYPE, chunks, read_info, xy_chunks
from models3d.tiles3d.output import staged_dir, write_json

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from models3d.las import CloudInfo

GRID_LEVELS = 10
GRID = 1 << GRID_LEVELS
#: ASPRS LAS 1.4 standard point classes.
ASPRS = {
    0: "never classified", 1: "unclassified", 2: "ground", 3: "low vegetation",
    4: "medium vegetation", 5: "high vegetation", 6: "building", 7: "low point (noise)",
    8: "model key point", 9: "water", 10: "rail", 11: "road surface", 12: "overlap",
    13: "wire guard", 14: "wire conductor", 15: "transmission tower", 16: "wire connector",
    17: "bridge deck", 18: "high noise",
}  # fmt: skip


@dataclass
class _Node:
    depth: int
    x: int
    y: int
    parent: int
    children: list[int] = field(default_factory=list)
    count: int = 0
    lo: NDArray[np.float64] = field(default_factory=lambda: np.full(3, np.inf))
    hi: NDArray[np.float64] = field(default_factory=lambda: np.full(3, -np.inf))


@dataclass(frozen=True)
class CloudReport:
    """What a point-cloud conversion did."""

    tileset: Path
    points: int
    tiles: int
    seconds: float
    bytes_on_disk: int
    crs: str


def _histogram(info: CloudInfo) -> NDArray[np.int64]:
    hist = np.zeros(GRID * GRID, dtype=np.int64)
    for xy in xy_chunks(info):
        hist += np.bincount(_cells(info, xy), minlength=GRID * GRID)
    return hist.reshape(GRID, GRID)


def _cells(info: CloudInfo, xy: NDArray[np.float64]) -> NDArray[np.int64]:
    span = np.maximum(info.maxs[:2] - info.mins[:2], 1e-9)
    ij = np.floor((xy - info.mins[:2]) / span * GRID).astype(np.int64)
    ij = np.clip(ij, 0, GRID - 1)
    return ij[:, 1] * GRID + ij[:, 0]


def _grow(hist: NDArray[np.int64], leaf_points: int) -> tuple[list[_Node], NDArray[np.int32]]:
    """Grow the quadtree over the grid, and the leaf of every grid cell (-1: empty)."""
    table = hist.cumsum(0).cumsum(1)
    table = np.pad(table, ((1, 0), (1, 0)))
    nodes: list[_Node] = []
    leaf_of = np.full((GRID, GRID), -1, dtype=np.int32)
    todo = [(0, 0, 0, -1)]
    while todo:
        depth, x, y, parent = todo.pop()
        size = GRID >> depth
        x0, y0 = x * size, y * size
        count = int(
            table[y0 + size, x0 + size]
            - table[y0, x0 + size]
            - table[y0 + size, x0]
            + table[y0, x0]
        )
        if count == 0:
            continue
        nodes.append(_Node(depth, x, y, parent))
        me = len(nodes) - 1
        if parent >= 0:
            nodes[parent].children.append(me)
        if count > leaf_points and depth < GRID_LEVELS:
            todo += [(depth + 1, 2 * x + dx, 2 * y + dy, me) for dy in (1, 0) for dx in (1, 0)]
        else:
            leaf_of[y0 : y0 + size, x0 : x0 + size] = me
    return nodes, leaf_of


def _ancestors(nodes: list[_Node]) -> NDArray[np.int32]:
    """``[node, depth]`` → the node's ancestor at that depth (itself at its own depth)."""
    out = np.full((len(nodes), GRID_LEVELS + 1), -1, dtype=np.int32)
    for i, node in enumerate(nodes):
        if node.parent >= 0:
            out[i] = out[node.parent]
        out[i, node.depth] = i
    return out


class _Spill:
    """Per-tile buffers that go to append-only files past a memory budget."""

    def __init__(self, folder: Path, budget_bytes: int) -> None:
        self.folder, self.budget = folder, budget_bytes
        self.buffers: dict[int, list[NDArray[Any]]] = {}
        self.held = 0

    def add(self, node: int, records: NDArray[Any]) -> None:
        self.buffers.setdefault(node, []).append(records)
        self.held += records.nbytes
        if self.held > self.budget:
            self.flush()

    def flush(self) -> None:
        for node, parts in self.buffers.items():
            with (self.folder / f"{node}.bin").open("ab") as fh:
                for part in parts:
                    fh.write(part.tobytes())
        self.buffers, self.held = {}, 0

    def read(self, node: int) -> NDArray[Any]:
        path = self.folder / f"{node}.bin"
        return np.fromfile(path, dtype=POINT_DTYPE) if path.exists() else np.zeros(0, POINT_DTYPE)


def _distribute(
    info: CloudInfo, nodes: list[_Node], leaf_of: NDArray[np.int32], spill: _Spill, seed: int
) -> int:
    ancestors = _ancestors(nodes)
    depth = np.array([n.depth for n in nodes], dtype=np.int64)
    rng = np.random.default_rng(seed)
    total = 0
    for xy, records in chunks(info):
        leaf = leaf_of.reshape(-1)[_cells(info, xy)]
        draw = np.floor(-np.log(1.0 - rng.random(len(leaf))) / np.log(4.0)).astype(np.int64)
        level = np.maximum(depth[leaf] - draw, 0)
        node = ancestors[leaf, level]
        order = np.argsort(node, kind="stable")
        ids, starts = np.unique(node[order], return_index=True)
        for k, part in zip(ids.tolist(), np.split(records[order], starts[1:]), strict=True):
            spill.add(k, part)
            nodes[k].count += len(part)
            nodes[k].lo = np.minimum(nodes[k].lo, part["xyz"].min(axis=0))
            nodes[k].hi = np.maximum(nodes[k].hi, part["xyz"].max(axis=0))
        total += len(records)
    spill.flush()
    return total


def points_glb(records: NDArray[Any]) -> bytes:
    """Encode points (ENU records) as a glb with colour and a class table behind the feature IDs."""
    classes, feature = np.unique(records["cls"], return_inverse=True)
    table = FeatureTable(
        "point_class",
        [
            Column("class", classes, "UINT8", "ASPRS classification"),
            Column("name", [ASPRS.get(int(c), "user defined") for c in classes]),
        ],
    )
    mesh = Mesh(
        enu_to_gltf(records["xyz"]),
        mode=POINTS,
        colors=records["rgba"],
        feature_ids=feature.astype(np.float32),
    )
    return write_glb(mesh, table)


def _bounds(nodes: list[_Node], i: int) -> None:
    """Widen every node's box to hold its descendants' (bottom-up)."""
    node = nodes[i]
    for c in node.children:
        _bounds(nodes, c)
        node.lo = np.minimum(node.lo, nodes[c].lo)
        node.hi = np.maximum(node.hi, nodes[c].hi)


def _tile(nodes: list[_Node], i: int, errors: dict[int, float]) -> dict[str, Any]:
    node = nodes[i]
    centre, half = (node.lo + node.hi) / 2, np.maximum((node.hi - node.lo) / 2, 0.01)
    doc: dict[str, Any] = {
        "boundingVolume": {"box": [*centre.tolist(), half[0], 0, 0, 0, half[1], 0, 0, 0, half[2]]},
        "geometricError": errors[i],
        "refine": "ADD",
    }
    if node.count:
        doc["content"] = {"uri": f"points/{node.depth}/{node.x}/{node.y}.glb"}
    if node.children:
        doc["children"] = [_tile(nodes, c, errors) for c in node.children]
    return doc


def _errors(nodes: list[_Node]) -> dict[int, float]:
    out: dict[int, float] = {}

    def walk(i: int) -> float:
        below = max((walk(c) for c in nodes[i].children), default=0.0)
        node = nodes[i]
        own = 0.0
        if node.children and node.count:
            area = max(float(np.prod(node.hi[:2] - node.lo[:2])), 1e-6)
            own = round(2 * float(np.sqrt(area / node.count)), 3)
        out[i] = max(below, own)
        return out[i]

    walk(0)
    return out


def convert_point_cloud(
    path: Path,
    out: Path,
    crs: str | None = None,
    *,
    leaf_points: int = 100_000,
    memory_mb: int = 256,
    seed: int = 0,
) -> CloudReport:
    """Convert a LAS/LAZ/COPC file into a 3D Tiles 1.1 point-cloud tileset at ``out``.

    Parameters
    ----------
    path
        The point cloud.
    out
        The tileset folder (replaced atomically).
    crs
        The file's CRS when it declares none (or declares a wrong one), e.g. ``EPSG:4547``.
    leaf_points
        A grid cell splits while it holds more points than this.
    memory_mb
        Points buffered in memory before they go to the spill files.
    seed
        Seed of the level-of-detail draw (the output is reproducible).

    Returns
    -------
    CloudReport
        Points, tiles, time and size.

    Raises
    ------
    PointCloudError
        On an unreadable file, a missing or wrong CRS, or an empty cloud.
    """
    started = time.perf_counter()
    info = read_info(path, crs)
    if info.count == 0:
        raise PointCloudError(f"{Path(path).name} has no points")
    nodes, leaf_of = _grow(_histogram(info), leaf_points)
    with (
        staged_dir(out) as tmp,
        tempfile.TemporaryDirectory(dir=tmp.parent, prefix=".spill-") as spill_dir,
    ):
        spill = _Spill(Path(spill_dir), memory_mb * 2**20)
        total = _distribute(info, nodes, leaf_of, spill, seed)
        for k, node in enumerate(nodes):
            if node.count:
                target = tmp / "points" / str(node.depth) / str(node.x) / f"{node.y}.glb"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(points_glb(spill.read(k)))
        _bounds(nodes, 0)
        errors = _errors(nodes)
        doc = {
            "asset": {"version": "1.1", "generator": "citytwin import-las"},
            "geometricError": max(
                errors[0] * 2, float(np.max(nodes[0].hi - nodes[0].lo)) / 10, 1.0
            ),
            "root": {**_tile(nodes, 0, errors), "transform": column_major(info.frame)},
        }
        write_json(tmp / "tileset.json", doc)
        size = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
    return CloudReport(
        Path(out) / "tileset.json",
        total,
        sum(1 for n in nodes if n.count),
        time.perf_counter() - started,
        size,
        info.crs.name,
    )
