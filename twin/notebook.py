"""The twin in a Jupyter notebook: a pydeck ``Deck`` of a running server's layers.

For planners who work in notebooks: :func:`twin_deck` returns a ``pydeck.Deck`` whose layers
read a running citytwin server (``twin serve``) over HTTP, with the key sent as a header:

- ``units``: the outlines of one level of administrative units (``/api/v1/units``, GeoJSON);
- ``buildings``: the vector tiles' buildings (``/tiles/buildings/{z}/{x}/{y}.mvt``) extruded
  to their height and coloured by a statistic (people, companies or events);
- ``city``: the city model's 3D Tiles (``/3dtiles/city/tileset.json``).

pydeck is an optional extra (``pip install "citytwin[notebook]"``), imported when called.
The notebook's browser fetches the layers; pydeck itself loads deck.gl as it always does.

Examples
--------
>>> deck = twin_deck("http://127.0.0.1:8000", "twin_0123456789ab_secret")  # doctest: +SKIP
>>> deck.show()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twin.errors import ConfigError

if TYPE_CHECKING:
    import pydeck

#: Statistics the buildings can be coloured by (properties of the buildings' vector tiles).
STATISTICS = ("people", "companies", "events")
#: Unit levels the outlines can show.
LEVELS = ("district", "street", "community", "grid")
#: Where the view opens without one given: Bao'an's Xin'an street, tilted.
DEFAULT_VIEW = {"longitude": 113.88, "latitude": 22.58, "zoom": 14, "pitch": 45, "bearing": 0}
#: Colour breaks (lower bounds) of the buildings, light to dark.
_BREAKS = {
    "people": (1, 20, 50, 100, 200),
    "companies": (1, 3, 10, 20, 40),
    "events": (1, 2, 3, 5, 10),
}
_RAMP = ("[255,243,196]", "[253,210,123]", "[249,162,75]", "[236,106,53]", "[201,54,44]",
         "[143,29,44]")  # fmt: skip


def colour_expression(statistic: str) -> str:
    """Return the deck.gl expression that colours a building feature by a statistic.

    Withheld counts (below the privacy threshold: missing from the tile) are grey.

    Examples
    --------
    >>> colour_expression("events")[:46]
    'properties.events == null ? [189,189,189] : p'
    """
    if statistic not in _BREAKS:
        raise ConfigError(f"statistic {statistic!r} is unknown: use one of {', '.join(STATISTICS)}")
    expr = _RAMP[0]
    for lower, colour in zip(_BREAKS[statistic], _RAMP[1:], strict=True):
        expr = f"properties.{statistic} >= {lower} ? {colour} : ({expr})"
    return f"properties.{statistic} == null ? [189,189,189] : ({expr})"


def twin_deck(
    server: str = "http://127.0.0.1:8000",
    api_key: str | None = None,
    *,
    statistic: str = "people",
    level: str = "community",
    tileset: str | None = "city",
    view: dict[str, float] | None = None,
) -> pydeck.Deck:
    """Return a pydeck ``Deck`` of the twin's layers on a running server.

    Parameters
    ----------
    server
        The server's base URL (``twin serve``: http://127.0.0.1:8000).
    api_key
        A key (``twin keys create --role planner``), sent as ``Authorization: Bearer``.
    statistic
        What colours the buildings: people, companies or events.
    level
        Which units' outlines to draw: district, street, community or grid.
    tileset
        The 3D Tiles tileset to add (``city``), or None for none.
    view
        pydeck view state fields (longitude, latitude, zoom, pitch, bearing).

    Raises
    ------
    ConfigError
        When the statistic or level is unknown, or pydeck is not installed.
    """
    try:
        import pydeck
    except ImportError as exc:
        raise ConfigError('pydeck is needed: pip install "citytwin[notebook]"') from exc
    if level not in LEVELS:
        raise ConfigError(f"level {level!r} is unknown: use one of {', '.join(LEVELS)}")
    base = server.rstrip("/")
    load = {"fetch": {"headers": {"Authorization": f"Bearer {api_key}"} if api_key else {}}}
    layers = [
        pydeck.Layer(
            "GeoJsonLayer", f"{base}/api/v1/units?level={level}", id="units", stroked=True,
            filled=False, get_line_color=[94, 53, 177], line_width_min_pixels=1.5,
            load_options=load, pickable=True,
        ),
        pydeck.Layer(
            "MVTLayer", f"{base}/tiles/buildings/{{z}}/{{x}}/{{y}}.mvt", id="buildings",
            # From z14: the buildings of z12-13 tiles carry their height only (docs/tiles.md).
            min_zoom=14, max_zoom=16, extruded=True, get_elevation="properties.height_m",
            get_fill_color=colour_expression(statistic), load_options=load, pickable=True,
        ),
    ]  # fmt: skip
    if tileset:
        layers.append(
            pydeck.Layer(
                "Tile3DLayer", f"{base}/3dtiles/{tileset}/tileset.json", id=tileset,
                load_options=load, point_size=2,
            )
        )  # fmt: skip
    return pydeck.Deck(
        layers=layers,
        initial_view_state=pydeck.ViewState(**(view or DEFAULT_VIEW)),
        map_provider=None,
        map_style=None,
        tooltip={"text": "{code} {name}"},
    )
