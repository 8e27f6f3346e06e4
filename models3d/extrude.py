"""Vectorised extrusion of building footprints into flat-shaded prisms.

Footprints stay in longitude/latitude while they are triangulated (an affine change of axes
keeps a constrained triangulation valid), and every vertex is then placed exactly with
:func:`models3d.geodesy.geodetic_to_enu`, so that a tile's buildings sit on the curved
ellipsoid however wide the tile is. Walls are quads with outward normals; roofs (and, on request,
floors) come from :func:`shapely.constrained_delaunay_triangles`. No Python loop runs per
building: GEOS triangulates the whole array, numpy builds the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

import shapely

from models3d.errors import GeometryError
from models3d.geodesy import geodetic_to_enu

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True)
class Prisms:
    """Triangles of extruded footprints in a local ENU frame (metres, z-up).

    Attributes
    ----------
    positions
        ``(n, 3)`` float64 ENU vertices, three or four per face (no sharing: flat shading).
    normals
        ``(n, 3)`` float32 unit normals in ENU axes.
    indices
        ``(m,)`` uint32 triangle corners, counter-clockwise seen from outside.
    feature_ids
        ``(n,)`` the row of each vertex's footprint in the input.
    """

    positions: NDArray[np.float64]
    normals: NDArray[np.float32]
    indices: NDArray[np.uint32]
    feature_ids: NDArray[np.int64]


def _walls(
    polys: NDArray[np.object_], owner: NDArray[np.int64], cos_lat: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Edges of every ring: start and end (lon, lat) and the owning feature."""
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[:-1] == ring_of[1:]
    start, end = coords[:-1][same], coords[1:][same]
    feature = owner[ring_poly[ring_of[:-1][same]]]
    dx = (end[:, 0] - start[:, 0]) * cos_lat
    dy = end[:, 1] - start[:, 1]
    keep = np.hypot(dx, dy) > 1e-10
    return start[keep], end[keep], feature[keep]


def _roofs(
    polys: NDArray[np.object_], owner: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Counter-clockwise triangles ``(t, 3, 2)`` covering every polygon, and their features."""
    tris = shapely.constrained_delaunay_triangles(polys)
    parts, part_of = shapely.get_parts(tris, return_index=True)
    corners = shapely.get_coordinates(parts).reshape(-1, 4, 2)[:, :3, :]
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    flip = cross < 0
    corners[flip] = corners[flip][:, ::-1]
    keep = cross != 0
    return corners[keep], owner[part_of[keep]]


def explode(footprints: NDArray[np.object_]) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Split (multi)polygons into polygons with counter-clockwise shells; keep each one's row.

    Raises
    ------
    GeometryError
        When a footprint is missing, empty or not polygonal.
    """
    geoms = np.asarray(footprints, dtype=object)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = shapely.get_type_id(geoms)
    bad |= ~np.isin(kinds, (3, 6))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise GeometryError(
            f"footprint {row} is empty or not a polygon: give each building an area"
        )
    parts, owner = shapely.get_parts(geoms, return_index=True)
    return shapely.orient_polygons(parts), owner.astype(np.int64)


def extrude(
    footprints: NDArray[np.object_],
    base_m: NDArray[np.floating],
    top_m: NDArray[np.floating],
    frame: NDArray[np.float64],
    *,
    floors: bool = False,
) -> Prisms:
    """Extrude WGS84 footprints from ``base_m`` to ``top_m`` (ellipsoidal heights, metres).

    Parameters
    ----------
    footprints
        Polygons or multipolygons in longitude/latitude degrees.
    base_m, top_m
        Bottom and top height per footprint.
    frame
        The ENU frame (:func:`models3d.geodesy.enu_frame`) the vertices are expressed in.
    floors
        Also close the bottom (for stacked floor and room volumes).

    Returns
    -------
    Prisms
        Walls, roofs (and floors) of every footprint.

    Raises
    ------
    GeometryError
        On an empty footprint or a top that is not above its base.
    """
    base = np.asarray(base_m, dtype=np.float64)
    top = np.asarray(top_m, dtype=np.float64)
    if np.any(~(top > base)):
        row = int(np.flatnonzero(~(top > base))[0])
        raise GeometryError(f"footprint {row} has a top ({top[row]}) not above its base")
    polys, owner = explode(footprints)
    cos_lat = float(np.cos(np.radians(shapely.get_coordinates(polys[:1])[0, 1])))
    faces = [_wall_faces(polys, owner, base, top, cos_lat), _roof_faces(polys, owner, top, +1)]
    if floors:
        faces.append(_roof_faces(polys, owner, base, -1))
    lonlat = np.concatenate([f[0] for f in faces])
    z = np.concatenate([f[1] for f in faces])
    normals = np.concatenate([f[2] for f in faces]).astype(np.float32)
    feature = np.concatenate([f[3] for f in faces])
    corner_counts = [f[4] for f in faces]
    positions = geodetic_to_enu(lonlat[:, 0], lonlat[:, 1], z, frame)
    return Prisms(positions, normals, _face_indices(corner_counts), feature)


def _wall_faces(
    polys: NDArray[np.object_],
    owner: NDArray[np.int64],
    base: NDArray[np.float64],
    top: NDArray[np.float64],
    cos_lat: float,
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.int64],
    tuple[int, int],
]:
    start, end, feature = _walls(polys, owner, cos_lat)
    n = len(start)
    lonlat = np.stack([start, end, end, start], axis=1).reshape(-1, 2)
    z = np.stack([base[feature], base[feature], top[feature], top[feature]], axis=1).reshape(-1)
    dx = (end[:, 0] - start[:, 0]) * cos_lat
    dy = end[:, 1] - start[:, 1]
    length = np.hypot(dx, dy)
    normal = np.stack([dy / length, -dx / length, np.zeros(n)], axis=1)
    return lonlat, z, np.repeat(normal, 4, axis=0), np.repeat(feature, 4), (n, 4)


def _roof_faces(
    polys: NDArray[np.object_], owner: NDArray[np.int64], z_of: NDArray[np.float64], up: int
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.int64],
    tuple[int, int],
]:
    corners, feature = _roofs(polys, owner)
    if up < 0:
        corners = corners[:, ::-1]
    n = len(corners)
    normal = np.zeros((n * 3, 3))
    normal[:, 2] = up
    return (
        corners.reshape(-1, 2),
        np.repeat(z_of[feature], 3),
        normal,
        np.repeat(feature, 3),
        (n, 3),
    )


def _face_indices(counts: list[tuple[int, int]]) -> NDArray[np.uint32]:
    """Triangle indices for faces laid out one after another: quads (4) or triangles (3)."""
    out = []
    offset = 0
    for n, corners in counts:
        first = offset + np.arange(n, dtype=np.int64) * corners
        if corners == 4:
            tri = np.stack([first, first + 1, first + 2, first, first + 2, first + 3], axis=1)
        else:
            tri = np.stack([first, first + 1, first + 2], axis=1)
        out.append(tri.reshape(-1))
        offset += n * corners
    return np.concatenate(out).astype(np.uint32) if out else np.zeros(0, dtype=np.uint32)


def triangles(
    corners: list[NDArray[np.float64]], owners: list[int], frame: NDArray[np.float64]
) -> Prisms:
    """Ready-made triangles (``(t, 3, 3)`` lon, lat, h per corner) of features, flat-shaded.

    Parameters
    ----------
    corners
        One array per feature, its triangles counter-clockwise seen from outside.
    owners
        The feature row of each array.
    frame
        The ENU frame the vertices are expressed in.
    """
    if not corners:
        return Prisms(
            np.zeros((0, 3)),
            np.zeros((0, 3), np.float32),
            np.zeros(0, np.uint32),
            np.zeros(0, np.int64),
        )
    tri = np.concatenate(corners)
    feature = np.repeat(np.array(owners, dtype=np.int64), [len(c) * 3 for c in corners])
    flat = tri.reshape(-1, 3)
    enu = geodetic_to_enu(flat[:, 0], flat[:, 1], flat[:, 2], frame).reshape(-1, 3, 3)
    normal = np.cross(enu[:, 1] - enu[:, 0], enu[:, 2] - enu[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    normals = np.repeat(normal, 3, axis=0).astype(np.float32)
    return Prisms(enu.reshape(-1, 3), normals, np.arange(len(flat), dtype=np.uint32), feature)


def merge(parts: list[Prisms]) -> Prisms:
    """One set of triangles from several (indices shifted)."""
    offsets = np.cumsum([0] + [len(p.positions) for p in parts[:-1]])
    return Prisms(
        np.concatenate([p.positions for p in parts]),
        np.concatenate([p.normals for p in parts]),
        np.concatenate([p.indices + np.uint32(o) for p, o in zip(parts, offsets, strict=True)]),
        np.concatenate([p.feature_ids for p in parts]),
    )
