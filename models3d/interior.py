"""A building's floors and rooms as stacked volumes, each carrying its floor and room code.

Rooms stored without geometry are laid out in a simple, believable way: the footprint's long
axis (of its minimum rotated rectangle) runs along a corridor 1.6 m wide, and the rooms of a floor
line both sides of it in code order (one row when a floor has fewer than four rooms). Every
volume is shrunk by 10 cm and stops 15 cm under the next floor, so walls and slabs show.
A floor with no rooms is one volume with an empty room code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import shapely
from shapely import affinity

from models3d.errors import GeometryError
from models3d.extrude import extrude
from models3d.geodesy import M_PER_DEG, column_major, enu_frame, enu_to_gltf
from models3d.gltf import Column, FeatureTable, Mesh, write_glb
from models3d.tiles3d.output import staged_dir, write_json

if TYPE_CHECKING:
    from models3d.source import BuildingInterior, RoomRow

CORRIDOR_M, GAP_M, SLAB_M = 1.6, 0.1, 0.15


@dataclass(frozen=True)
class Volume:
    """One room or floor volume: polygon (lon/lat), bottom and top (m) and its properties."""

    polygon: Any
    bottom_m: float
    top_m: float
    floor_no: int
    room_code: str
    room_no: str
    unit_no: str
    use: str


def _to_metres(geom: Any, lon0: float, lat0: float) -> Any:
    k = math.cos(math.radians(lat0)) * M_PER_DEG
    return shapely.transform(geom, lambda c: (c - [lon0, lat0]) * [k, M_PER_DEG])


def _to_degrees(geom: Any, lon0: float, lat0: float) -> Any:
    k = math.cos(math.radians(lat0)) * M_PER_DEG
    return shapely.transform(geom, lambda c: c / [k, M_PER_DEG] + [lon0, lat0])


def split_footprint(footprint_m: Any, n: int) -> list[Any]:
    """Split a metric footprint into ``n`` rooms along a central corridor (see module doc)."""
    rect = shapely.minimum_rotated_rectangle(footprint_m)
    ring = np.asarray(rect.exterior.coords)[:4]
    edges = np.diff(np.vstack([ring, ring[:1]]), axis=0)
    long_edge = edges[int(np.argmax(np.hypot(edges[:, 0], edges[:, 1])))]
    angle = math.degrees(math.atan2(long_edge[1], long_edge[0]))
    centre = rect.centroid
    flat = affinity.rotate(footprint_m, -angle, origin=centre)
    w, s, e, nn = flat.bounds
    rows = 1 if n < 4 or (nn - s) < 3 * CORRIDOR_M else 2
    bands = (
        [(s, nn)]
        if rows == 1
        else [(s, (s + nn - CORRIDOR_M) / 2), ((s + nn + CORRIDOR_M) / 2, nn)]
    )
    per_row = [n // rows + (1 if r < n % rows else 0) for r in range(rows)]
    cells = []
    for (lo, hi), count in zip(bands, per_row, strict=True):
        xs = np.linspace(w, e, count + 1)
        cells += [shapely.box(xs[i], lo, xs[i + 1], hi) for i in range(count)]
    pieces = [affinity.rotate(flat.intersection(c), angle, origin=centre) for c in cells]
    return [p.buffer(-GAP_M, join_style="mitre") for p in pieces]


def _floor_levels(b: BuildingInterior) -> list[tuple[int, float, float]]:
    """(floor number, elevation, storey height) of every floor, stored or implied."""
    storey = b.height_m / max(b.floors, 1)
    stored = {f.floor_no: f for f in b.floor_rows}
    numbers = sorted(set(stored) | set(range(1, b.floors + 1)) | set(range(-b.basement_floors, 0)))
    numbers += sorted({r.floor_no for r in b.rooms} - set(numbers))
    out = []
    for no in sorted(set(numbers)):
        row = stored.get(no)
        elevation = (
            row.elevation_m
            if row and row.elevation_m is not None
            else (no - 1 if no > 0 else no) * storey
        )
        height = row.height_m if row and row.height_m else storey
        out.append((no, float(elevation), float(height)))
    return out


def volumes(b: BuildingInterior) -> list[Volume]:
    """Return the room (or whole-floor) volumes of a building, floor by floor."""
    lon0, lat0 = shapely.get_coordinates(b.footprint.centroid)[0]
    metric = _to_metres(b.footprint, lon0, lat0)
    by_floor: dict[int, list[RoomRow]] = {}
    for room in b.rooms:
        by_floor.setdefault(room.floor_no, []).append(room)
    out = []
    for no, elevation, height in _floor_levels(b):
        top = elevation + height - SLAB_M
        rooms = by_floor.get(no, [])
        if not rooms:
            shape = _to_degrees(metric.buffer(-GAP_M, join_style="mitre"), lon0, lat0)
            out.append(Volume(shape, elevation, top, no, "", "", "", ""))
            continue
        for room, piece in zip(rooms, split_footprint(metric, len(rooms)), strict=True):
            if piece.is_empty:
                raise GeometryError(
                    f"building {b.code} is too small for {len(rooms)} rooms on floor {no}"
                )
            out.append(
                Volume(
                    _to_degrees(piece, lon0, lat0),
                    elevation,
                    top,
                    no,
                    room.code,
                    room.room_no,
                    room.unit_no,
                    room.use,
                )
            )
    return out


def interior_glb(b: BuildingInterior) -> tuple[bytes, Any]:
    """Return the glb of a building's volumes and the ENU frame it is written in."""
    vols = volumes(b)
    lon0, lat0 = shapely.get_coordinates(b.footprint.centroid)[0]
    frame = enu_frame(float(lon0), float(lat0), 0.0)
    polys = np.array([v.polygon for v in vols], dtype=object)
    prisms = extrude(
        polys,
        np.array([v.bottom_m for v in vols]),
        np.array([v.top_m for v in vols]),
        frame,
        floors=True,
    )
    table = FeatureTable(
        "room",
        [
            Column("room_code", [v.room_code for v in vols], description="25-digit room code"),
            Column("floor_no", np.array([v.floor_no for v in vols]), "INT32", "floor number"),
            Column("room_no", [v.room_no for v in vols]),
            Column("unit_no", [v.unit_no for v in vols]),
            Column("use", [v.use for v in vols]),
            Column("building_code", [b.code] * len(vols)),
        ],
    )
    mesh = Mesh(
        enu_to_gltf(prisms.positions),
        normals=enu_to_gltf(prisms.normals),
        indices=prisms.indices,
        feature_ids=prisms.feature_ids.astype(np.float32),
        base_color=(0.55, 0.7, 0.9, 1.0),
    )
    return write_glb(mesh, table), (frame, vols)


def build_interior_tileset(b: BuildingInterior, out: Path) -> Path:
    """Write a one-tile tileset of a building's floors and rooms at ``out``; return tileset.json."""
    raw, (frame, vols) = interior_glb(b)
    bounds = shapely.total_bounds(np.array([v.polygon for v in vols], dtype=object))
    lo = min(v.bottom_m for v in vols)
    hi = max(v.top_m for v in vols)
    region = [float(v) for v in np.radians(bounds)] + [lo, hi]
    doc = {
        "asset": {"version": "1.1", "generator": "citytwin interior"},
        "geometricError": 20.0,
        "root": {
            "boundingVolume": {"region": region},
            "geometricError": 0.0,
            "refine": "REPLACE",
            "transform": column_major(frame),
            "content": {"uri": f"{b.code}.glb"},
        },
    }
    with staged_dir(out) as tmp:
        (tmp / f"{b.code}.glb").write_bytes(raw)
        write_json(tmp / "tileset.json", doc)
    return Path(out) / "tileset.json"
