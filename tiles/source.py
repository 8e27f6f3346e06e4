"""Building vector tiles in PostGIS: one query per request, one ``ST_AsMVT`` per layer.

The layers of a request are concatenated by the database (MVT layers are independent protobuf
messages, so the bytes of two tiles concatenate into one tile holding both).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from psycopg import sql

from tiles.layers import LAYERS
from tiles.tms import ORIGIN_SHIFT_M

if TYPE_CHECKING:
    import psycopg

    from tiles.audience import Audience
    from tiles.layers import Layer
    from tiles.tms import TileCoord

#: Tile extent in MVT units and the clipping buffer around it.
EXTENT = 4096
BUFFER = 64

_ENV = """env AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS e3857,
           ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {margin}) AS b3857,
           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s,
                                        margin => {margin}), 4326) AS e4326
)"""


def _layer_query(layer: Layer, index: int, z: int) -> sql.Composed:
    inner = sql.SQL(layer.sql_for(z).strip().rstrip(";"))
    if z in layer.encoded:
        return sql.SQL("coalesce(({inner}), '')").format(inner=inner)
    return sql.SQL(
        # ST_AsMVT leaves out rows whose geometry is NULL (clipped away); a WHERE on it
        # would be pushed into the scan and compute ST_AsMVTGeom twice per row.
        "(SELECT coalesce(ST_AsMVT(t{i}, {name}, {extent}, 'geom'), '') FROM ({inner}) AS t{i})"
    ).format(
        i=sql.SQL(str(index)), name=sql.Literal(layer.name), extent=sql.Literal(EXTENT), inner=inner
    )


def tile_query(layers: tuple[Layer, ...], z: int) -> sql.Composed:
    """Compose the query returning one ``bytea`` tile holding every layer given, at zoom z."""
    env = sql.SQL(_ENV.format(margin=BUFFER / EXTENT))
    parts = [_layer_query(layer, i, z) for i, layer in enumerate(layers)]
    return sql.SQL("WITH {env} SELECT {body}").format(env=env, body=sql.SQL(" || ").join(parts))


@cache
def tile_query_text(names: tuple[str, ...], z: int) -> bytes:
    """Return the query of some layers at a zoom, composed once.

    The same bytes each time, so that the driver prepares it once per connection: one
    prepared statement per layer set and zoom.
    """
    return tile_query(tuple(LAYERS[n] for n in names), z).as_bytes(None)


def tile_params(layers: tuple[Layer, ...], coord: TileCoord, audience: Audience) -> dict[str, Any]:
    """Return the query parameters for a tile (the layers' own parameters must agree)."""
    params: dict[str, Any] = {
        "z": coord.z,
        "x": coord.x,
        "y": coord.y,
        "k": audience.threshold,
        "scope": audience.scope,
        "px": 2 * ORIGIN_SHIFT_M / (1 << coord.z) / EXTENT,
    }
    for layer in layers:
        params.update(layer.params)
    return params


def _split_by_params(layers: tuple[Layer, ...]) -> list[tuple[Layer, ...]]:
    """Group layers whose parameters clash (e.g. two admin levels) into separate queries."""
    groups: list[list[Layer]] = []
    for layer in layers:
        for group in groups:
            if all(layer.params.keys().isdisjoint(other.params) for other in group):
                group.append(layer)
                break
        else:
            groups.append([layer])
    return [tuple(g) for g in groups]


def visible_groups(layers: tuple[Layer, ...], coord: TileCoord) -> list[tuple[Layer, ...]]:
    """Return the layers shown at the tile's zoom, grouped into queries whose params agree."""
    visible = tuple(layer for layer in layers if layer.minzoom <= coord.z <= layer.maxzoom)
    return _split_by_params(visible)


async def fetch_tile(
    conn: psycopg.AsyncConnection[Any],
    layers: tuple[Layer, ...],
    coord: TileCoord,
    audience: Audience,
) -> bytes:
    """Return the MVT bytes of ``layers`` at ``coord`` (layers outside their zooms are left out).

    Parameters
    ----------
    audience
        Who the tile is for: counts below its threshold are withheld outside its scope.
    """
    chunks: list[bytes] = []
    for group in visible_groups(layers, coord):
        query = tile_query_text(tuple(layer.name for layer in group), coord.z)
        cur = await conn.execute(query, tile_params(group, coord, audience), prepare=True)
        row = await cur.fetchone()
        if row and row[0]:
            chunks.append(bytes(row[0]))
    return b"".join(chunks)
