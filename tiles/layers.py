"""The catalogue of vector-tile layers: which SQL, which zooms, which attributes.

Each layer's query lives in ``tiles/sql/<file>.sql`` and selects an ``ST_AsMVTGeom`` column
``geom`` plus attributes from the tile's envelope ``env`` (``e3857`` for clipping, ``b3857``
and ``e4326`` — with the clipping buffer — for index look-ups). A layer may use other queries
at lower zooms (``by_zoom``): generalised or pre-cut tables, fewer attributes, aggregates.
Parameters: ``z``, ``x``, ``y``, ``px`` (metres per tile pixel, for simplification), ``k``
(privacy threshold; 0 means exact counts), ``scope`` (a block code prefix whose counts are
exact; empty for none) and the layer's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from tiles.errors import UnknownLayerError


@dataclass(frozen=True)
class Layer:
    """One vector-tile layer."""

    name: str
    sql_file: str
    minzoom: int
    maxzoom: int
    description: str
    #: The layer's own query parameters (e.g. the admin level).
    params: dict[str, str] = field(default_factory=dict)
    #: The attributes the layer carries, with their TileJSON types.
    fields: dict[str, str] = field(default_factory=dict)
    #: The tables whose changes invalidate this layer's cached tiles.
    tables: tuple[str, ...] = ()
    #: (first zoom, SQL file): queries used below ``full_from``, each from its zoom on.
    by_zoom: tuple[tuple[int, str], ...] = ()
    #: The zoom from which ``sql_file`` is used.
    full_from: int = 0
    #: Zooms whose query returns the layer already encoded (one ``bytea``), not rows.
    encoded: tuple[int, ...] = ()

    @property
    def sql(self) -> str:
        """The layer's inner query at its closest zooms."""
        return _read_sql(self.sql_file)

    def sql_for(self, z: int) -> str:
        """Return the layer's inner query at zoom ``z``.

        Examples
        --------
        >>> "building_tile" in LAYERS["buildings"].sql_for(12)
        True
        >>> "building_tile" in LAYERS["buildings"].sql_for(17)
        False
        """
        if z >= self.full_from:
            return self.sql
        chosen = self.sql_file
        for first, name in self.by_zoom:
            if z >= first:
                chosen = name
        return _read_sql(chosen)


@cache
def _read_sql(name: str) -> str:
    return resources.files("tiles").joinpath("sql", name).read_text(encoding="utf-8")


_COUNTS = {"people": "Number", "companies": "Number", "events": "Number"}
_ADMIN = {"code": "String", "name": "String", "parent_code": "String", **_COUNTS}
_ADMIN_TABLES = ("admin_unit", "block_counts")

LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        Layer(
            "districts",
            "admin_units.sql",
            0,
            16,
            "Districts (区) with their counts",
            {"level": "district"},
            _ADMIN,
            _ADMIN_TABLES,
        ),
        Layer(
            "streets",
            "admin_units.sql",
            8,
            16,
            "Streets (街道)",
            {"level": "street"},
            _ADMIN,
            _ADMIN_TABLES,
        ),
        Layer(
            "communities",
            "admin_units.sql",
            10,
            18,
            "Communities (社区)",
            {"level": "community"},
            _ADMIN,
            _ADMIN_TABLES,
        ),
        Layer(
            "grids",
            "admin_units.sql",
            12,
            20,
            "Base grids (基础网格) with their counts",
            {"level": "grid"},
            _ADMIN,
            _ADMIN_TABLES,
        ),
        Layer(
            "buildings",
            "buildings.sql",
            12,
            22,
            "Building footprints with codes and counts (z12: height only; z13: code and height)",
            {},
            {
                "code": "String",
                "name": "String",
                "floors": "Number",
                "height_m": "Number",
                "use": "String",
                "grid_code": "String",
                **_COUNTS,
            },
            ("building", "block_counts"),
            by_zoom=((12, "buildings_encoded.sql"), (14, "buildings_cut.sql")),
            full_from=17,
            encoded=(12, 13),
        ),
        Layer(
            "roads",
            "roads.sql",
            11,
            22,
            "Roads (街路巷)",
            {},
            {"id": "Number", "name": "String", "road_class": "String"},
            ("road",),
        ),
        Layer(
            "addresses",
            "addresses.sql",
            16,
            22,
            "Door plates (门牌) with numbers",
            {},
            {"code": "String", "door_no": "String", "text": "String"},
            ("address",),
        ),
        Layer(
            "entities",
            "entities.sql",
            15,
            22,
            "Geographic entities (city parts)",
            {},
            {"code": "String", "class_code": "String", "name": "String"},
            ("geo_entity",),
        ),
        Layer(
            "events",
            "events.sql",
            8,
            22,
            "Event counts per community (below z12), grid (z12-14) or building; never single "
            "events",
            {},
            {"code": "String", "level": "String", "events": "Number"},
            ("block_counts", "building", "admin_unit"),
            by_zoom=((8, "events_units.sql"),),
            full_from=15,
        ),
    )
}


def resolve_layers(spec: str) -> tuple[Layer, ...]:
    """Parse ``"buildings,grids"`` into layers, in the order given, without repeats.

    Raises
    ------
    UnknownLayerError
        Naming the unknown layer and the known ones.

    Examples
    --------
    >>> [layer.name for layer in resolve_layers("buildings,grids")]
    ['buildings', 'grids']
    """
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise UnknownLayerError("no layer named; known layers: " + ", ".join(LAYERS))
    unknown = [n for n in names if n not in LAYERS]
    if unknown:
        raise UnknownLayerError(f"unknown layer {unknown[0]!r}; known layers: " + ", ".join(LAYERS))
    return tuple(LAYERS[n] for n in dict.fromkeys(names))
