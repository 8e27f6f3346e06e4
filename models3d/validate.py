"""Validation of what we write: glbs by the Khronos glTF validator, tilesets by 3D Tiles rules.

:func:`validate_glbs` runs ``gltf_validate.cjs`` with node and the npm package ``gltf-validator``
(installed in ``web/node_modules``). :func:`check_tileset` walks a tileset.json and checks what
the 3D Tiles 1.1 specification requires and a schema cannot: every child's bounding volume lies
inside its parent's, geometric error never grows with depth, content URIs resolve, every glb's
vertices lie inside its tile's bounding volume once the tile's transform and the glTF y-up rule
are applied, and every feature ID indexes a row of its property table.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models3d.errors import ValidatorError
from models3d.geodesy import ecef_to_geodetic, geodetic_to_ecef
from models3d.gltf import read_accessor, read_glb

if TYPE_CHECKING:
    from numpy.typing import NDArray

SCRIPT = Path(__file__).with_name("gltf_validate.cjs")
#: Where ``npm ci`` in ``web/`` puts the validator.
DEFAULT_NODE_MODULES = Path(__file__).resolve().parents[1] / "web" / "node_modules"
#: Slack of containment checks: metres, and radians (about 1 cm).
TOL_M, TOL_RAD = 0.05, 2e-9
_SAMPLE = 20_000


@dataclass(frozen=True)
class GlbReport:
    """The Khronos validator's verdict on one glb."""

    path: str
    errors: int
    warnings: int
    messages: list[str] = field(default_factory=list)


def validate_glbs(paths: list[Path], node_modules: Path = DEFAULT_NODE_MODULES) -> list[GlbReport]:
    """Run the Khronos glTF validator on ``paths``.

    Raises
    ------
    ValidatorError
        When node or the ``gltf-validator`` package is missing, or the validator fails.
    """
    node = shutil.which("node")
    if node is None:
        raise ValidatorError("node is not installed: install Node.js (apt-get install nodejs npm)")
    if not (node_modules / "gltf-validator").is_dir():
        raise ValidatorError(f"gltf-validator is not in {node_modules}: run `npm ci` in web/")
    reports: list[GlbReport] = []
    for start in range(0, len(paths), 200):
        batch = [str(p) for p in paths[start : start + 200]]
        run = subprocess.run(
            [node, str(SCRIPT), *batch],
            capture_output=True,
            text=True,
            env={"NODE_PATH": str(node_modules), "PATH": "/usr/bin:/bin"},
            check=False,
        )
        if run.returncode != 0:
            raise ValidatorError(f"the glTF validator failed: {run.stderr.strip()[:300]}")
        reports += [
            GlbReport(r["path"], r["errors"], r["warnings"], r["messages"])
            for r in json.loads(run.stdout)
        ]
    return reports


def _matrix(tile: dict[str, Any]) -> NDArray[np.float64]:
    values = tile.get("transform")
    if values is None:
        return np.eye(4)
    return np.asarray(values, dtype=np.float64).reshape(4, 4).T


def _apply(m: NDArray[np.float64], pts: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(pts @ m[:3, :3].T + m[:3, 3], dtype=np.float64)


def volume_points(volume: dict[str, Any], world: NDArray[np.float64]) -> NDArray[np.float64]:
    """Points (ECEF) on the boundary of a bounding volume: corners and edge midpoints."""
    if "region" in volume:
        w, s, e, n, lo, hi = volume["region"]
        lon, lat, h = np.meshgrid([w, (w + e) / 2, e], [s, (s + n) / 2, n], [lo, hi])
        return geodetic_to_ecef(np.degrees(lon).ravel(), np.degrees(lat).ravel(), h.ravel())
    if "box" in volume:
        box = np.asarray(volume["box"], dtype=np.float64)
        signs = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1])).reshape(3, -1).T
        return _apply(world, box[:3] + signs @ box[3:].reshape(3, 3))
    cx, cy, cz, r = volume["sphere"]
    offsets = np.vstack([np.eye(3), -np.eye(3)]) * r
    return _apply(world, np.array([cx, cy, cz]) + offsets)


def outside(volume: dict[str, Any], world: NDArray[np.float64], ecef: NDArray[np.float64]) -> int:
    """How many ECEF points lie outside a bounding volume (with :data:`TOL_M` slack)."""
    if "region" in volume:
        w, s, e, n, lo, hi = volume["region"]
        geo = ecef_to_geodetic(ecef)
        lon, lat = np.radians(geo[:, 0]), np.radians(geo[:, 1])
        bad = (lon < w - TOL_RAD) | (lon > e + TOL_RAD) | (lat < s - TOL_RAD) | (lat > n + TOL_RAD)
        bad |= (geo[:, 2] < lo - TOL_M) | (geo[:, 2] > hi + TOL_M)
        return int(bad.sum())
    local = _apply(np.asarray(np.linalg.inv(world), dtype=np.float64), ecef)
    if "box" in volume:
        box = np.asarray(volume["box"], dtype=np.float64)
        axes = box[3:].reshape(3, 3)
        coef = np.linalg.lstsq(axes.T, (local - box[:3]).T, rcond=None)[0].T
        slack = 1 + TOL_M / np.maximum(np.linalg.norm(axes, axis=1), 1e-9)
        return int((np.abs(coef) > slack).any(axis=1).sum())
    cx, cy, cz, r = volume["sphere"]
    return int((np.linalg.norm(local - [cx, cy, cz], axis=1) > r + TOL_M).sum())


def _content_points(
    path: Path, world: NDArray[np.float64], problems: list[str]
) -> NDArray[np.float64]:
    """Return a glb's vertices in ECEF (glTF y-up turned z-up, then the tile's transform)."""
    doc, data = read_glb(path.read_bytes())
    pts = []
    for mesh in doc.get("meshes", []):
        for prim in mesh["primitives"]:
            pos = read_accessor(doc, data, prim["attributes"]["POSITION"]).astype(np.float64)
            _check_features(doc, data, prim, path, problems)
            step = max(1, len(pos) // _SAMPLE)
            pts.append(pos[::step])
    yup = np.concatenate(pts) if pts else np.zeros((0, 3))
    zup = np.stack([yup[:, 0], -yup[:, 2], yup[:, 1]], axis=1)
    return _apply(world, zup)


def _check_features(
    doc: dict[str, Any], data: bytes, prim: dict[str, Any], path: Path, problems: list[str]
) -> None:
    ext = prim.get("extensions", {}).get("EXT_mesh_features")
    if not ext:
        return
    tables = doc.get("extensions", {}).get("EXT_structural_metadata", {}).get("propertyTables", [])
    for fid in ext["featureIds"]:
        ids = read_accessor(doc, data, prim["attributes"][f"_FEATURE_ID_{fid['attribute']}"])
        table = tables[fid["propertyTable"]] if "propertyTable" in fid else None
        if ids.size and (ids.min() < 0 or ids.max() >= fid["featureCount"]):
            problems.append(f"{path.name}: feature IDs outside 0..{fid['featureCount'] - 1}")
        if table is not None and table["count"] < fid["featureCount"]:
            problems.append(f"{path.name}: property table has fewer rows than features")
        if len(np.unique(ids)) != fid["featureCount"]:
            problems.append(f"{path.name}: featureCount is not the number of distinct IDs")


def _check_tile(
    tile: dict[str, Any],
    base: Path,
    parent: NDArray[np.float64],
    parent_tile: dict[str, Any] | None,
    problems: list[str],
    glbs: list[Path],
) -> None:
    world = parent @ _matrix(tile)
    where = tile.get("content", {}).get("uri", "tile")
    if parent_tile is not None:
        if tile["geometricError"] > parent_tile["geometricError"]:
            problems.append(f"{where}: geometric error larger than its parent's")
        corners = volume_points(tile["boundingVolume"], world)
        if outside(parent_tile["boundingVolume"], parent, corners):
            problems.append(f"{where}: bounding volume not inside its parent's")
    if "content" in tile:
        target = base / tile["content"]["uri"]
        if not target.is_file():
            problems.append(f"{where}: content does not exist")
        elif target.suffix == ".json":
            problems += check_tileset(target, glbs)
        elif target.suffix == ".glb":
            glbs.append(target)
            pts = _content_points(target, world, problems)
            if n := outside(tile["boundingVolume"], world, pts):
                problems.append(f"{where}: {n} vertices outside the tile's bounding volume")
    for child in tile.get("children", []):
        _check_tile(child, base, world, tile, problems, glbs)


def check_tileset(path: Path, glbs: list[Path] | None = None) -> list[str]:
    """Check a tileset.json against the 3D Tiles 1.1 rules named in the module's description.

    Parameters
    ----------
    path
        The tileset.json.
    glbs
        When given, the glb contents found are appended (for :func:`validate_glbs`).

    Returns
    -------
    list[str]
        One line per problem; empty when the tileset is sound.
    """
    doc = json.loads(path.read_text(encoding="utf-8"))
    problems: list[str] = []
    if doc.get("asset", {}).get("version") not in ("1.0", "1.1"):
        problems.append(f"{path.name}: asset.version is not 1.0 or 1.1")
    root = doc["root"]
    if root["geometricError"] > doc["geometricError"]:
        problems.append(f"{path.name}: root geometric error above the tileset's")
    _check_tile(root, path.parent, np.eye(4), None, problems, glbs if glbs is not None else [])
    return problems


def validate_tileset(path: Path, node_modules: Path = DEFAULT_NODE_MODULES) -> list[str]:
    """Check a tileset (:func:`check_tileset`) and every glb in it (:func:`validate_glbs`).

    Returns
    -------
    list[str]
        The problems of both; glTF warnings are not problems, errors are.
    """
    glbs: list[Path] = []
    problems = check_tileset(path, glbs)
    for report in validate_glbs(glbs, node_modules):
        if report.errors:
            problems.append(f"{report.path}: {report.errors} glTF errors: {report.messages[:3]}")
    return problems
