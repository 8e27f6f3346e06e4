"""CityJSON 1.1 / 2.0 import: LoD1 and LoD2 buildings into the city model.

Every ``Building`` and ``BuildingPart`` with geometry becomes one feature of the city model with
its own triangles (its highest LoD up to 2.x: ``Solid``, ``MultiSolid``, ``CompositeSolid``,
``MultiSurface`` or ``CompositeSurface``); each surface, holes included, is triangulated with
earcut in the plane it faces most. Its footprint (for tiling) is the convex hull of its
vertices, its height their vertical extent. Coordinates go from the file's CRS (its
``referenceSystem`` or ``--crs``) to WGS84; heights are used as ellipsoidal, as for LAS.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import shapely

from models3d.buildings import BuildingTable
from models3d.errors import CityJsonError

if TYPE_CHECKING:
    from numpy.typing import NDArray

VERSIONS = ("1.1", "2.0")
BUILDING_TYPES = ("Building", "BuildingPart")
_EPSG = re.compile(r"EPSG/\d+/(\d+)|EPSG::?(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class CityJsonModel:
    """The buildings of a CityJSON file, ready for the city model."""

    version: str
    crs: str
    table: BuildingTable
    skipped: int


def _crs_of(doc: dict[str, Any], given: str | None, path: Path) -> tuple[Any, float]:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    text = given or str(doc.get("metadata", {}).get("referenceSystem") or "")
    match = _EPSG.search(text)
    if not text:
        raise CityJsonError(f"{path.name} has no metadata.referenceSystem: pass --crs EPSG:…")
    try:
        crs = (
            CRS.from_epsg(int(match.group(1) or match.group(2)))
            if match
            else CRS.from_user_input(text)
        )
    except CRSError as exc:
        raise CityJsonError(f"{path.name}: CRS {text!r} is unknown: pass --crs EPSG:…") from exc
    if crs.is_compound:
        return crs.sub_crs_list[0], float(crs.sub_crs_list[1].axis_info[0].unit_conversion_factor)
    return crs, 1.0 if crs.is_geographic else float(crs.axis_info[0].unit_conversion_factor)


def _surfaces(geometry: dict[str, Any]) -> list[list[list[int]]]:
    """Every surface (a list of rings of vertex indices) of a geometry."""
    kind, b = geometry["type"], geometry.get("boundaries", [])
    if kind in ("MultiSurface", "CompositeSurface"):
        return list(b)
    if kind == "Solid":
        return [s for shell in b for s in shell]
    if kind in ("MultiSolid", "CompositeSolid"):
        return [s for solid in b for shell in solid for s in shell]
    return []


def _lod(geometry: dict[str, Any]) -> float:
    try:
        return float(geometry.get("lod", 0))
    except (TypeError, ValueError):
        return 0.0


def _best(obj: dict[str, Any]) -> dict[str, Any] | None:
    usable = [g for g in obj.get("geometry", []) if _surfaces(g) and _lod(g) < 3]
    return max(usable, key=_lod) if usable else None


def triangulate_surface(points: NDArray[np.float64], rings: list[list[int]]) -> NDArray[np.int64]:
    """Triangles (indices into ``points``) of one planar surface with holes, outward-facing."""
    import mapbox_earcut

    flat = [i for ring in rings for i in ring]
    pts = points[flat]
    centred = pts - pts.mean(axis=0)
    normal = np.cross(np.roll(centred, -1, axis=0), centred).sum(axis=0) * -0.5  # Newell
    axis = int(np.argmax(np.abs(normal)))
    xy = pts[:, [a for a in range(3) if a != axis]]
    ends = np.cumsum([len(r) for r in rings]).astype(np.uint32)
    tri = np.asarray(mapbox_earcut.triangulate_float64(xy, ends), dtype=np.int64).reshape(-1, 3)
    # Earcut's winding depends on the projection: face every triangle the surface's way.
    a, b, c = (centred[tri[:, k]] for k in range(3))
    flip = np.cross(b - a, c - a) @ normal < 0
    tri[flip] = tri[flip][:, ::-1]
    return np.asarray(flat, dtype=np.int64)[tri]


def read_cityjson(path: Path, crs: str | None = None) -> CityJsonModel:
    """Read a CityJSON file's buildings (see the module's description).

    Raises
    ------
    CityJsonError
        When the file is not CityJSON 1.1/2.0, declares no CRS and none is given, or has no
        building with geometry.
    """
    from pyproj import Transformer

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CityJsonError(f"{path} is not a readable JSON file ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("type") != "CityJSON":
        raise CityJsonError(f'{path} is not a CityJSON file (no "type": "CityJSON")')
    if str(doc.get("version")) not in VERSIONS:
        raise CityJsonError(
            f"{path} is CityJSON {doc.get('version')}: versions 1.1 and 2.0 are supported "
            "(cjio's upgrade converts older files)"
        )
    horizontal, z_factor = _crs_of(doc, crs, Path(path))
    t = doc.get("transform", {"scale": [1, 1, 1], "translate": [0, 0, 0]})
    vertices = np.asarray(doc["vertices"], dtype=np.float64) * t["scale"] + t["translate"]
    to_wgs84 = Transformer.from_crs(horizontal, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(vertices[:, 0], vertices[:, 1])
    geo = np.column_stack([lon, lat, vertices[:, 2] * z_factor])
    if not np.isfinite(geo).all():
        raise CityJsonError(
            f"{Path(path).name}: coordinates are not valid in {horizontal.name}: check --crs"
        )
    return _table(doc, vertices, geo, str(doc["version"]), horizontal.name)


def _table(
    doc: dict[str, Any],
    vertices: NDArray[np.float64],
    geo: NDArray[np.float64],
    version: str,
    crs_name: str,
) -> CityJsonModel:
    objects, meshes, parents, skipped = [], [], [], 0
    for oid, obj in doc.get("CityObjects", {}).items():
        if obj.get("type") not in BUILDING_TYPES:
            continue
        best = _best(obj)
        mesh = _triangles(geo, vertices, best) if best is not None else np.zeros((0, 3, 3))
        if not len(mesh):
            skipped += 1
            continue
        objects.append((oid, obj))
        meshes.append(mesh)
        parents.append(",".join(obj.get("parents", [])))
    if not objects:
        raise CityJsonError("the CityJSON file has no building with LoD1 or LoD2 geometry")
    return CityJsonModel(version, crs_name, _columns(objects, meshes, parents), skipped)


def _triangles(
    geo: NDArray[np.float64], vertices: NDArray[np.float64], geometry: dict[str, Any]
) -> NDArray[np.float64]:
    """Triangulate in the source CRS (planar metres), then take the WGS84 corners."""
    tris = [
        triangulate_surface(vertices, rings)
        for rings in _surfaces(geometry)
        if rings and len(rings[0]) >= 3
    ]
    tris = [t for t in tris if len(t)]
    return geo[np.concatenate(tris)] if tris else np.zeros((0, 3, 3))


def _columns(
    objects: list[tuple[str, dict[str, Any]]], meshes: list[NDArray[np.float64]], parents: list[str]
) -> BuildingTable:
    corners = [m.reshape(-1, 3)[:, :2] for m in meshes]
    owner = np.repeat(np.arange(len(meshes)), [len(c) for c in corners])
    points = shapely.points(np.concatenate(corners))
    hulls: Any = shapely.convex_hull(shapely.multipoints(np.asarray(points), indices=owner))
    base = np.array([m[..., 2].min() for m in meshes])
    top = np.array([m[..., 2].max() for m in meshes])
    floors = [_int(o.get("attributes", {}).get("storeysAboveGround")) for _, o in objects]
    uses = [
        str(o.get("attributes", {}).get("function", o.get("attributes", {}).get("usage", "")) or "")
        for _, o in objects
    ]
    mesh_array = np.empty(len(meshes), dtype=object)
    for i, m in enumerate(meshes):
        mesh_array[i] = m
    return BuildingTable(
        codes=np.array([oid for oid, _ in objects], dtype=str),
        footprints=np.asarray(hulls, dtype=object),
        height_m=np.maximum(top - base, 0.1),
        floors=np.array(floors, dtype=np.int32),
        uses=np.array(uses, dtype=str),
        base_m=base,
        extra={
            "parent": np.array(parents, dtype=str),
            "kind": np.array([o["type"] for _, o in objects], dtype=str),
        },
        meshes=mesh_array,
    )


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0
