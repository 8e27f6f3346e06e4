"""Reading LAS 1.2–1.4, LAZ and COPC files in chunks, placed in a local ENU frame.

The CRS comes from ``--crs`` or the file's WKT / GeoTIFF keys (``laspy``'s ``parse_crs``); a
file without either is refused with a sentence saying what to pass. Heights: a compound CRS's
vertical part gives z's unit; a projected 2-D CRS in feet is taken to have z in the same feet
(the LAS habit); heights are then used as ellipsoidal (no geoid grid is fetched: the offset,
tens of metres at most, moves a cloud up or down, never sideways).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models3d.errors import PointCloudError
from models3d.geodesy import ecef_to_local, enu_frame

if TYPE_CHECKING:
    from collections.abc import Iterator

    from numpy.typing import NDArray

#: Points read per chunk: about 30 MB of LAS records, 60 MB of arrays.
CHUNK = 1_000_000
#: One record of the spill files: position in the cloud's ENU frame, colour, class.
POINT_DTYPE = np.dtype([("xyz", "<f4", 3), ("rgba", "u1", 4), ("cls", "u1")])


@dataclass(frozen=True)
class CloudInfo:
    """What the header says: count, bounds (file units), CRS, and the chosen ENU frame."""

    path: Path
    count: int
    mins: NDArray[np.float64]
    maxs: NDArray[np.float64]
    crs: Any
    z_factor: float
    frame: NDArray[np.float64]


def _open(path: Path) -> Any:
    import laspy

    if not Path(path).is_file():
        raise PointCloudError(f"{path} does not exist")
    try:
        backends = laspy.LazBackend.detect_available()
        return laspy.open(str(path), laz_backend=backends[0] if backends else None)
    except Exception as exc:  # laspy raises its own and OS errors for broken files
        raise PointCloudError(f"{path} is not a readable LAS/LAZ file ({exc})") from exc


def _resolve_crs(header: Any, given: str | None, path: Path) -> tuple[Any, float]:
    """Return the horizontal CRS and the factor that turns z into metres."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    crs: Any
    if given:
        try:
            crs = CRS.from_user_input(given)
        except CRSError as exc:
            raise PointCloudError(
                f"--crs {given!r} is not a CRS pyproj knows (try EPSG:4547)"
            ) from exc
    else:
        try:
            crs = header.parse_crs()
        except Exception:  # a malformed GeoTIFF key or WKT VLR is as good as none
            crs = None
        if crs is None:
            raise PointCloudError(
                f"{path.name} declares no CRS: pass --crs EPSG:… (e.g. --crs EPSG:4547)"
            )
    if crs.is_compound:
        horizontal, vertical = crs.sub_crs_list[0], crs.sub_crs_list[1]
        return horizontal, float(vertical.axis_info[0].unit_conversion_factor)
    factor = 1.0 if crs.is_geographic else float(crs.axis_info[0].unit_conversion_factor)
    return crs, factor


def _ecef(crs: Any) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(crs, "EPSG:4978", always_xy=True)


def read_info(path: Path, crs: str | None = None) -> CloudInfo:
    """Open a point cloud's header, settle its CRS and the ENU frame at its centre.

    Raises
    ------
    PointCloudError
        When the file is unreadable, declares no CRS and none is given, or its coordinates do
        not fit the CRS (a wrong ``--crs``).
    """
    from pyproj import Transformer

    with _open(path) as reader:
        header = reader.header
        horizontal, z_factor = _resolve_crs(header, crs, Path(path))
        mins, maxs = (
            np.array(header.mins, dtype=np.float64),
            np.array(header.maxs, dtype=np.float64),
        )
        count = int(header.point_count)
    centre = (mins + maxs) / 2
    to_wgs84 = Transformer.from_crs(horizontal, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(centre[0], centre[1])
    if not (np.isfinite(lon) and np.isfinite(lat) and abs(lat) <= 90 and abs(lon) <= 180):
        raise PointCloudError(
            f"{Path(path).name}: coordinates around ({centre[0]:.1f}, {centre[1]:.1f}) are not "
            f"valid in {horizontal.name}: check --crs"
        )
    frame = enu_frame(float(lon), float(lat), float(centre[2] * z_factor))
    return CloudInfo(Path(path), count, mins, maxs, horizontal, z_factor, frame)


def _colours(points: Any, n: int) -> NDArray[np.uint8]:
    rgba = np.full((n, 4), 255, dtype=np.uint8)
    names = set(points.point_format.dimension_names)
    if {"red", "green", "blue"} <= names:
        rgb = np.stack([np.asarray(points[c]) for c in ("red", "green", "blue")], axis=1)
        # LAS stores 16-bit colour; some writers put 8-bit values in it.
        shift = 8 if rgb.max(initial=0) > 255 else 0
        rgba[:, :3] = (rgb >> shift).astype(np.uint8)
    elif "intensity" in names:
        intensity = np.asarray(points["intensity"], dtype=np.float64)
        top = max(float(np.percentile(intensity, 99)) if n else 1.0, 1.0)
        rgba[:, :3] = (np.clip(intensity / top, 0, 1) * 255).astype(np.uint8)[:, None]
    return rgba


def chunks(
    info: CloudInfo, size: int = CHUNK
) -> Iterator[tuple[NDArray[np.float64], NDArray[Any]]]:
    """Yield ``(x, y)`` in file units (for tiling) and records (:data:`POINT_DTYPE`) per chunk."""
    to_ecef = _ecef(info.crs)
    with _open(info.path) as reader:
        for points in reader.chunk_iterator(size):
            n = len(points)
            if n == 0:
                continue
            x, y = np.asarray(points.x, dtype=np.float64), np.asarray(points.y, dtype=np.float64)
            z = np.asarray(points.z, dtype=np.float64) * info.z_factor
            ex, ey, ez = to_ecef.transform(x.copy(), y.copy(), z, inplace=True)
            records = np.empty(n, dtype=POINT_DTYPE)
            records["xyz"] = ecef_to_local(np.stack([ex, ey, ez], axis=-1), info.frame)
            records["rgba"] = _colours(points, n)
            records["cls"] = np.asarray(points.classification, dtype=np.uint8)
            yield np.column_stack([x, y]), records


def xy_chunks(info: CloudInfo, size: int = CHUNK) -> Iterator[NDArray[np.float64]]:
    """Yield only ``(x, y)`` per chunk, in file units (the cheap first pass)."""
    with _open(info.path) as reader:
        for points in reader.chunk_iterator(size):
            yield np.column_stack([np.asarray(points.x), np.asarray(points.y)])
