"""Reading an IFC model: element meshes in world coordinates, storeys and spaces.

Geometry comes from ``ifcopenshell.geom`` with world coordinates (metres), one triangulated
shape per element. Triangles are unwelded into flat-shaded faces and merged into one mesh per
kind (building elements; spaces), each vertex carrying its element's row as feature ID.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models3d.errors import IfcError

if TYPE_CHECKING:
    from numpy.typing import NDArray

SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3", "IFC4X3_ADD2")
#: Not drawn: openings are subtracted already, spaces go to their own mesh.
_SKIP = ("IfcOpeningElement", "IfcSpace", "IfcSite", "IfcAnnotation")


@dataclass
class ElementMesh:
    """Triangles of many elements merged (world metres, z-up) and each element's properties."""

    positions: NDArray[np.float64]
    normals: NDArray[np.float32]
    feature_ids: NDArray[np.int64]
    global_ids: list[str] = field(default_factory=list)
    ifc_types: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    storeys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Storey:
    """An IfcBuildingStorey: GlobalId, name, elevation (m)."""

    global_id: str
    name: str
    elevation_m: float


@dataclass(frozen=True)
class Space:
    """An IfcSpace: GlobalId, name, long name and the GlobalId of its storey."""

    global_id: str
    name: str
    long_name: str
    storey_id: str


def open_ifc(path: Path) -> Any:
    """Open an IFC file with ifcopenshell.

    Raises
    ------
    IfcError
        When the file is missing, broken or of an unsupported schema.
    """
    import ifcopenshell

    if not Path(path).is_file():
        raise IfcError(f"{path} does not exist")
    try:
        model = ifcopenshell.open(str(path))
    except Exception as exc:  # ifcopenshell raises bare errors for broken STEP files
        raise IfcError(f"{path} is not a readable IFC file ({type(exc).__name__}: {exc})") from exc
    if model.schema not in SCHEMAS:
        raise IfcError(f"{path} uses schema {model.schema}: IFC2X3 and IFC4 are supported")
    return model


def _container(element: Any) -> str:
    import ifcopenshell.util.element as util

    holder: Any = util.get_container(element)
    return holder.GlobalId if holder is not None and holder.is_a("IfcBuildingStorey") else ""


def element_meshes(model: Any, spaces: bool = False) -> ElementMesh:
    """Triangulate the model's building elements (or, with ``spaces``, its IfcSpaces)."""
    import ifcopenshell.geom

    geom: Any = ifcopenshell.geom  # untyped bindings
    iterator: Any
    settings = geom.settings()
    settings.set("use-world-coords", True)
    if spaces:
        include = model.by_type("IfcSpace")
        if not include:
            return ElementMesh(
                np.zeros((0, 3)), np.zeros((0, 3), np.float32), np.zeros(0, np.int64)
            )
        iterator = geom.iterator(settings, model, min(2, os.cpu_count() or 1), include=include)
    else:
        exclude = [e for kind in _SKIP for e in model.by_type(kind)]
        iterator = geom.iterator(settings, model, min(2, os.cpu_count() or 1), exclude=exclude)
    out = ElementMesh(np.zeros((0, 3)), np.zeros((0, 3), np.float32), np.zeros(0, np.int64))
    chunks: list[tuple[NDArray[np.float64], NDArray[np.float32]]] = []
    if iterator.initialize():
        while True:
            _add_shape(model, iterator.get(), out, chunks)
            if not iterator.next():
                break
    if chunks:
        out.positions = np.concatenate([c[0] for c in chunks])
        out.normals = np.concatenate([c[1] for c in chunks])
        out.feature_ids = np.concatenate([np.full(len(c[0]), i) for i, c in enumerate(chunks)])
    return out


def _add_shape(
    model: Any,
    shape: Any,
    out: ElementMesh,
    chunks: list[tuple[NDArray[np.float64], NDArray[np.float32]]],
) -> None:
    verts = np.asarray(shape.geometry.verts, dtype=np.float64).reshape(-1, 3)
    faces = np.asarray(shape.geometry.faces, dtype=np.int64).reshape(-1, 3)
    if not len(faces):
        return
    tri = verts[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(normal, axis=1)
    keep = length > 1e-12
    tri, normal = tri[keep], normal[keep] / length[keep, None]
    if not len(tri):
        return
    element = model.by_id(shape.id)
    chunks.append((tri.reshape(-1, 3), np.repeat(normal, 3, axis=0).astype(np.float32)))
    out.global_ids.append(element.GlobalId)
    out.ifc_types.append(element.is_a())
    out.names.append(element.Name or "")
    out.storeys.append(_container(element))


def storeys_and_spaces(model: Any) -> tuple[list[Storey], list[Space]]:
    """Return the model's storeys (by elevation, metres) and spaces (with their storey)."""
    import ifcopenshell.util.element as util
    import ifcopenshell.util.placement as placement
    import ifcopenshell.util.unit as unit

    scale = float(unit.calculate_unit_scale(model))
    storeys = []
    for s in model.by_type("IfcBuildingStorey"):
        elevation = s.Elevation
        if elevation is None and s.ObjectPlacement is not None:
            elevation = placement.get_local_placement(s.ObjectPlacement)[2, 3]
        storeys.append(Storey(s.GlobalId, s.Name or "", float(elevation or 0.0) * scale))
    storeys.sort(key=lambda s: s.elevation_m)
    spaces = []
    for sp in model.by_type("IfcSpace"):
        parent: Any = util.get_aggregate(sp) or util.get_container(sp)
        while parent is not None and parent.is_a("IfcSpace"):
            parent = util.get_aggregate(parent)
        storey = parent.GlobalId if parent is not None and parent.is_a("IfcBuildingStorey") else ""
        spaces.append(Space(sp.GlobalId, sp.Name or "", sp.LongName or "", storey))
    return storeys, spaces


def floor_numbers(storeys: list[Storey]) -> dict[str, int]:
    """Floor numbers of storeys: at or above ground 1, 2, ... upwards; below ground -1, -2 ... down.

    A storey is below ground when its elevation is under -0.5 m (a ground floor's finish level
    may sit a little below 0).
    """
    above = [s for s in storeys if s.elevation_m >= -0.5]
    below = sorted((s for s in storeys if s.elevation_m < -0.5), key=lambda s: -s.elevation_m)
    numbers = {s.global_id: i + 1 for i, s in enumerate(above)}
    numbers.update({s.global_id: -(i + 1) for i, s in enumerate(below)})
    return numbers
