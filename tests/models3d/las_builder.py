"""A small synthetic point cloud: a LAS file of coloured points around a place in Shenzhen."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: The CRS the file's coordinates are in (CGCS2000 / 3-degree Gauss-Kruger CM 114E); the file
#: does not declare it, so the import is given ``crs=CRS``.
CRS = "EPSG:4547"


def build_las(
    path: Path, lon: float, lat: float, points: int = 20_000, side_m: float = 60.0
) -> Path:
    """Write a LAS 1.2 file of a ``side_m`` square of ground and a 30 m tower at its centre.

    Ground points are class 2 (ground) in greens, the tower's class 6 (building) in reds; the
    square is centred on ``lon``, ``lat`` at 5 m.
    """
    import laspy

    import pyproj

    x0, y0 = pyproj.Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(lon, lat)
    rng = np.random.default_rng(7)
    tower = points // 4
    ground = points - tower
    x = np.concatenate([rng.uniform(-side_m / 2, side_m / 2, ground), rng.uniform(-5, 5, tower)])
    y = np.concatenate([rng.uniform(-side_m / 2, side_m / 2, ground), rng.uniform(-5, 5, tower)])
    z = np.concatenate([5 + rng.normal(0, 0.1, ground), 5 + rng.uniform(0, 30, tower)])
    header = laspy.LasHeader(point_format=3, version="1.2")
    header.scales = np.array([0.01, 0.01, 0.01])
    header.offsets = np.array([x0, y0, 0.0])
    las = laspy.LasData(header)
    las.x, las.y, las.z = x0 + x, y0 + y, z
    shade = rng.uniform(0.3, 1.0, points)
    in_tower = np.concatenate([np.zeros(ground, bool), np.ones(tower, bool)])
    las.red = (np.where(in_tower, shade, 0.2 * shade) * 65535).astype(np.uint16)
    las.green = (np.where(in_tower, 0.2 * shade, shade) * 65535).astype(np.uint16)
    las.blue = (0.2 * shade * 65535).astype(np.uint16)
    las.classification = np.where(in_tower, 6, 2).astype(np.uint8)
    las.write(str(path))
    return path
