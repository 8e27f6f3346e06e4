"""Offline tile archives: PMTiles v3 of chosen layers, zooms and area, for laptops in the field.

Tiles are built by the same queries the server uses, gzip-compressed, written in tile-id order
(so the archive is clustered) to a temporary file that replaces the target only when complete.
Empty tiles are left out.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tiles.audience import Audience
from tiles.errors import TileError
from tiles.layers import resolve_layers
from tiles.source import tile_params, tile_query_text, visible_groups
from tiles.tms import MAX_ZOOM, TileCoord, tiles_covering

if TYPE_CHECKING:
    import psycopg

Progress = Callable[[int, int], None]
#: A bound on the work one export may ask for.
MAX_TILES = 2_000_000


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote."""

    path: Path
    tiles_written: int
    tiles_empty: int
    bytes_written: int


def plan_tiles(
    bbox_4326: tuple[float, float, float, float], minzoom: int, maxzoom: int
) -> list[tuple[int, TileCoord]]:
    """Return (tile id, tile) of every tile covering the bbox, in tile-id order."""
    from pmtiles.tile import zxy_to_tileid

    if not 0 <= minzoom <= maxzoom <= MAX_ZOOM:
        raise TileError(f"zooms {minzoom}..{maxzoom} are not within 0..{MAX_ZOOM}")
    west, south, east, north = bbox_4326
    if not (-180 <= west < east <= 180 and -85.06 <= south < north <= 85.06):
        raise TileError(f"bbox {bbox_4326} is not west, south, east, north in degrees")
    out: list[tuple[int, TileCoord]] = []
    for z in range(minzoom, maxzoom + 1):
        xmin, ymin, xmax, ymax = tiles_covering(bbox_4326, z)
        if len(out) + (xmax - xmin + 1) * (ymax - ymin + 1) > MAX_TILES:
            raise TileError(f"more than {MAX_TILES} tiles: narrow the bbox or the zooms")
        out += [
            (zxy_to_tileid(z, x, y), TileCoord(z, x, y))
            for x in range(xmin, xmax + 1)
            for y in range(ymin, ymax + 1)
        ]
    out.sort(key=lambda item: item[0])
    return out


def _tile_bytes(
    conn: psycopg.Connection[Any], spec: str, coord: TileCoord, threshold: int
) -> bytes:
    chunks = []
    audience = Audience(threshold)
    for group in visible_groups(resolve_layers(spec), coord):
        query = tile_query_text(tuple(layer.name for layer in group), coord.z)
        row = conn.execute(query, tile_params(group, coord, audience), prepare=True).fetchone()
        if row and row[0]:
            chunks.append(bytes(row[0]))
    return b"".join(chunks)


def _header(bbox: tuple[float, float, float, float], minzoom: int, maxzoom: int) -> dict[str, Any]:
    from pmtiles.tile import Compression, TileType

    west, south, east, north = bbox
    return {
        "tile_type": TileType.MVT,
        "tile_compression": Compression.GZIP,
        "min_lon_e7": int(west * 1e7),
        "min_lat_e7": int(south * 1e7),
        "max_lon_e7": int(east * 1e7),
        "max_lat_e7": int(north * 1e7),
        "center_zoom": minzoom,
        "center_lon_e7": int((west + east) / 2 * 1e7),
        "center_lat_e7": int((south + north) / 2 * 1e7),
        "min_zoom": minzoom,
        "max_zoom": maxzoom,
    }


def export_pmtiles(
    conn: psycopg.Connection[Any],
    out: Path,
    spec: str,
    bbox_4326: tuple[float, float, float, float],
    minzoom: int,
    maxzoom: int,
    threshold: int,
    progress: Progress | None = None,
) -> ExportReport:
    """Write a PMTiles v3 archive of the layers in ``spec``; nothing half-written."""
    from pmtiles.writer import Writer

    layers = resolve_layers(spec)
    planned = plan_tiles(bbox_4326, minzoom, maxzoom)
    out = out.resolve()
    fd, tmp_name = tempfile.mkstemp(prefix=".pmtiles-", dir=out.parent)
    written = empty = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            writer = Writer(fh)  # type: ignore[no-untyped-call]
            for i, (tile_id, coord) in enumerate(planned):
                raw = _tile_bytes(conn, spec, coord, threshold)
                if raw:
                    writer.write_tile(tile_id, gzip.compress(raw))  # type: ignore[no-untyped-call]
                    written += 1
                else:
                    empty += 1
                if progress is not None:
                    progress(i + 1, len(planned))
            if written == 0:
                raise TileError("no tile of these layers holds any feature in that area")
            metadata = {
                "name": "citytwin",
                "format": "pbf",
                "vector_layers": [
                    {
                        "id": lyr.name,
                        "fields": lyr.fields,
                        "minzoom": lyr.minzoom,
                        "maxzoom": lyr.maxzoom,
                    }
                    for lyr in layers
                ],
                "privacy_threshold": threshold,
            }
            writer.finalize(  # type: ignore[no-untyped-call]
                _header(bbox_4326, minzoom, maxzoom), json.loads(json.dumps(metadata))
            )
        os.replace(tmp_name, out)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return ExportReport(out, written, empty, out.stat().st_size)
