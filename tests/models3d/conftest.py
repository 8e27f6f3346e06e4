"""Shared builders of the 3D model tests: synthetic buildings and a glb reader."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import shapely

from models3d.buildings import BuildingTable
from models3d.gltf import read_accessor, read_glb

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"


def synthetic_table(
    n: int, seed: int = 1, lon0: float = 113.9, lat0: float = 22.55
) -> BuildingTable:
    """``n`` L-shaped buildings scattered over about 3 × 2 km, with a people count."""
    rng = np.random.default_rng(seed)
    cx = lon0 + rng.random(n) * 0.03
    cy = lat0 + rng.random(n) * 0.02
    w = 1e-4 * (0.5 + rng.random(n))
    h = 1e-4 * (0.5 + rng.random(n))
    corners = [
        (cx - w, cy - h),
        (cx + w, cy - h),
        (cx + w, cy),
        (cx, cy),
        (cx, cy + h),
        (cx - w, cy + h),
    ]
    pts = np.stack([np.stack(c, axis=1) for c in corners], axis=1)
    return BuildingTable(
        codes=np.array([f"44030601700101{i + 1:05d}" for i in range(n)]),
        footprints=shapely.polygons(pts),
        height_m=np.round(6 + rng.random(n) * 90, 1),
        floors=rng.integers(2, 30, n).astype(np.int32),
        uses=np.array(["residential", "commercial"])[rng.integers(0, 2, n)],
        base_m=np.zeros(n),
        extra={"people": rng.integers(0, 500, n)},
    )


def decode_table(doc: dict[str, Any], data: bytes) -> dict[str, list[Any]]:
    """The property table of a glb, decoded into columns."""
    meta = doc["extensions"]["EXT_structural_metadata"]
    table = meta["propertyTables"][0]
    schema = meta["schema"]["classes"][table["class"]]["properties"]
    views = doc["bufferViews"]
    out: dict[str, list[Any]] = {}

    def raw(view: int) -> bytes:
        v = views[view]
        return data[v.get("byteOffset", 0) : v.get("byteOffset", 0) + v["byteLength"]]

    for name, prop in table["properties"].items():
        if schema[name]["type"] == "STRING":
            offsets = np.frombuffer(raw(prop["stringOffsets"]), dtype=np.uint32)
            blob = raw(prop["values"])
            out[name] = [blob[a:b].decode() for a, b in itertools.pairwise(offsets)]
        else:
            dtype = {
                "UINT16": np.uint16,
                "INT32": np.int32,
                "INT64": np.int64,
                "FLOAT32": np.float32,
                "FLOAT64": np.float64,
                "UINT8": np.uint8,
                "UINT32": np.uint32,
            }[schema[name]["componentType"]]
            out[name] = np.frombuffer(raw(prop["values"]), dtype=dtype).tolist()
    return out


def glb_parts(path: Path) -> tuple[dict[str, Any], bytes, dict[str, np.ndarray]]:
    """A glb's JSON, BIN and its first primitive's attributes decoded."""
    doc, data = read_glb(path.read_bytes())
    prim = doc["meshes"][0]["primitives"][0]
    attrs = {name: read_accessor(doc, data, acc) for name, acc in prim["attributes"].items()}
    if "indices" in prim:
        attrs["indices"] = read_accessor(doc, data, prim["indices"])
    return doc, data, attrs


@pytest.fixture
def table() -> BuildingTable:
    return synthetic_table(2500)


def assert_valid(tileset: Path) -> None:
    """The tileset passes the 3D Tiles checks and every glb the Khronos validator (no errors).

    Fails (never skips) when node or gltf-validator is missing: run ``npm ci`` in web/.
    """
    from models3d.validate import validate_tileset

    problems = validate_tileset(tileset)
    assert problems == [], "\n".join(problems)


def content_tiles(tileset: Path) -> list[tuple[str, np.ndarray, dict[str, Any]]]:
    """Every tile with content, parents first: its URI, accumulated transform and JSON."""
    import json

    doc = json.loads(tileset.read_text())
    out: list[tuple[str, np.ndarray, dict[str, Any]]] = []

    def walk(tile: dict[str, Any], parent: np.ndarray) -> None:
        world = parent
        if "transform" in tile:
            world = parent @ np.array(tile["transform"], dtype=float).reshape(4, 4).T
        if "content" in tile:
            out.append((tile["content"]["uri"], world, tile))
        for child in tile.get("children", []):
            walk(child, world)

    walk(doc["root"], np.eye(4))
    return out
