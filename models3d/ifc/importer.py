"""``twin 3d import-ifc``: an IFC model to a small 3D Tiles tileset, optionally linked.

The tileset has a root without content and two children: ``elements.glb`` (walls, slabs,
doors... with GlobalId, IFC type, name, storey and floor number per feature) and
``spaces.glb`` (the IfcSpaces, with their floor number and, when linked to a building, their
25-digit room code). Vertices are placed exactly (model → WGS84 → local ENU at the model's origin).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models3d.errors import IfcError
from models3d.geodesy import column_major, enu_frame, enu_to_gltf, geodetic_to_enu
from models3d.gltf import Column, FeatureTable, Mesh, write_glb
from models3d.ifc.georef import Anchor, Georeference, georeference
from models3d.ifc.reader import (
    ElementMesh,
    element_meshes,
    floor_numbers,
    open_ifc,
    storeys_and_spaces,
)
from models3d.tiles3d.output import staged_dir, write_json

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from models3d.ifc.reader import Space, Storey


_WALL, _SPACE = (0.85, 0.82, 0.75, 1.0), (0.4, 0.7, 1.0, 1.0)


@dataclass
class IfcImport:
    """What an import read and wrote."""

    schema: str
    georeference: str
    detail: str
    elements: int
    storeys: list[Storey]
    spaces: list[Space]
    tileset: Path
    room_codes: dict[str, str] = field(default_factory=dict)


def _placed(
    mesh: ElementMesh, ref: Georeference, frame: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float32], NDArray[np.float64]]:
    """ENU positions and normals of a mesh, and its WGS84 coordinates."""
    geo = ref.to_geodetic(mesh.positions)
    enu = geodetic_to_enu(geo[:, 0], geo[:, 1], geo[:, 2], frame)
    probe = ref.to_geodetic(np.vstack([np.zeros(3), np.eye(3)]))
    axes = geodetic_to_enu(probe[:, 0], probe[:, 1], probe[:, 2], frame)
    jacobian = (axes[1:] - axes[0]).T
    normals = mesh.normals.astype(np.float64) @ np.linalg.inv(jacobian)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    return enu, normals.astype(np.float32), geo


def _glb(
    mesh: ElementMesh,
    enu: NDArray[np.float64],
    normals: NDArray[np.float32],
    columns: list[Column],
    kind: str,
    colour: tuple[float, float, float, float],
) -> bytes:
    gltf = Mesh(
        enu_to_gltf(enu),
        normals=enu_to_gltf(normals),
        indices=np.arange(len(enu), dtype=np.uint32),
        feature_ids=mesh.feature_ids.astype(np.float32),
        base_color=colour,
    )
    return write_glb(gltf, FeatureTable(kind, columns))


def _element_columns(
    mesh: ElementMesh, storeys: list[Storey], floors: dict[str, int]
) -> list[Column]:
    names = {s.global_id: s.name for s in storeys}
    return [
        Column("global_id", mesh.global_ids, description="IFC GlobalId"),
        Column("ifc_type", mesh.ifc_types, description="IFC entity"),
        Column("name", mesh.names),
        Column("storey", [names.get(s, "") for s in mesh.storeys]),
        Column(
            "floor_no", np.array([floors.get(s, 0) for s in mesh.storeys]), "INT32", "0: unknown"
        ),
    ]


def _space_columns(
    mesh: ElementMesh, spaces: list[Space], floors: dict[str, int], rooms: dict[str, str]
) -> list[Column]:
    by_id = {s.global_id: s for s in spaces}
    storey_of = [by_id[g].storey_id if g in by_id else "" for g in mesh.global_ids]
    return [
        Column("global_id", mesh.global_ids, description="IFC GlobalId"),
        Column("name", mesh.names),
        Column("long_name", [by_id[g].long_name if g in by_id else "" for g in mesh.global_ids]),
        Column("floor_no", np.array([floors.get(s, 0) for s in storey_of]), "INT32", "0: unknown"),
        Column(
            "room_code",
            [rooms.get(g, "") for g in mesh.global_ids],
            description="25-digit room code",
        ),
    ]


def _region(geos: list[NDArray[np.float64]]) -> list[float]:
    geo = np.concatenate(geos)
    lo, hi = geo.min(axis=0), geo.max(axis=0)
    return [float(v) for v in np.radians([lo[0], lo[1], hi[0], hi[1]])] + [
        float(lo[2]),
        float(hi[2]),
    ]


def _tileset(
    parts: list[tuple[str, bytes, NDArray[np.float64]]], frame: NDArray[np.float64], extent: float
) -> dict[str, Any]:
    """Return the tileset.json of a model: a root holding one child per glb."""
    children = [
        {
            "boundingVolume": {"region": _region([g])},
            "geometricError": 0.0,
            "content": {"uri": name},
        }
        for name, _, g in parts
    ]
    return {
        "asset": {"version": "1.1", "generator": "citytwin import-ifc"},
        "geometricError": max(extent, 1.0) * 2,
        "root": {
            "boundingVolume": {"region": _region([g for _, _, g in parts])},
            "geometricError": max(extent, 1.0),
            "refine": "ADD",
            "transform": column_major(frame),
            "children": children,
        },
    }


def import_ifc(
    path: Path,
    out: Path,
    anchor: Anchor | None = None,
    link: Callable[[list[Storey], list[Space]], dict[str, str]] | None = None,
) -> IfcImport:
    """Convert an IFC file into a tileset at ``out`` (replaced atomically).

    Parameters
    ----------
    path
        The .ifc file (IFC2X3 or IFC4).
    out
        The tileset folder.
    anchor
        Used only when the model has no georeference of its own.
    link
        Given the storeys and spaces, returns room codes by IfcSpace GlobalId (and may store
        the link): see :func:`models3d.ifc.link.link_building`.

    Raises
    ------
    IfcError
        On an unreadable file or one without geometry.
    GeoreferenceError
        When the model has no georeference and no anchor is given.
    """
    model = open_ifc(path)
    ref = georeference(model, anchor)
    storeys, spaces = storeys_and_spaces(model)
    floors = floor_numbers(storeys)
    rooms = link(storeys, spaces) if link is not None else {}
    elements = element_meshes(model)
    if not len(elements.positions):
        raise IfcError(f"{path} has no element with geometry")
    origin = ref.to_geodetic(np.zeros((1, 3)))[0]
    frame = enu_frame(float(origin[0]), float(origin[1]), float(origin[2]))
    enu, normals, geo = _placed(elements, ref, frame)
    columns = _element_columns(elements, storeys, floors)
    parts = [("elements.glb", _glb(elements, enu, normals, columns, "ifc_element", _WALL), geo)]
    space_mesh = element_meshes(model, spaces=True)
    if len(space_mesh.positions):
        s_enu, s_normals, s_geo = _placed(space_mesh, ref, frame)
        columns = _space_columns(space_mesh, spaces, floors, rooms)
        raw = _glb(space_mesh, s_enu, s_normals, columns, "ifc_space", _SPACE)
        parts.append(("spaces.glb", raw, s_geo))
    doc = _tileset(parts, frame, float(np.ptp(enu, axis=0).max()))
    with staged_dir(out) as tmp:
        for name, raw, _ in parts:
            (tmp / name).write_bytes(raw)
        write_json(tmp / "tileset.json", doc)
    return IfcImport(
        model.schema,
        ref.method,
        ref.detail,
        len(elements.global_ids),
        storeys,
        spaces,
        Path(out) / "tileset.json",
        rooms,
    )
