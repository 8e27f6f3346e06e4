"""TileJSON 3.0 documents for the layers, and the MapLibre style that uses them."""

from __future__ import annotations

import math
from typing import Any

from tiles.layers import LAYERS, Layer

#: Shenzhen in WGS84, the default bounds and centre when the database holds nothing yet.
DEFAULT_BOUNDS = (113.75, 22.39, 114.63, 22.87)


def centre_zoom(bounds: tuple[float, float, float, float], minzoom: int, maxzoom: int) -> int:
    """Return the zoom at which the box about fills one 256-pixel tile, within the layer's zooms.

    Examples
    --------
    >>> centre_zoom((113.75, 22.39, 114.63, 22.87), 0, 22)  # Shenzhen
    8
    >>> centre_zoom((113.88, 22.55, 113.89, 22.56), 0, 16)  # one community
    15
    """
    west, south, east, north = bounds
    span = max(east - west, (north - south) / math.cos(math.radians((south + north) / 2)))
    return max(minzoom, min(maxzoom, int(math.log2(360 / span))))


def tilejson(
    layer: Layer, base_url: str, bounds: tuple[float, float, float, float]
) -> dict[str, Any]:
    """Return the TileJSON 3.0 document of one layer."""
    west, south, east, north = bounds
    return {
        "tilejson": "3.0.0",
        "name": layer.name,
        "description": layer.description,
        "scheme": "xyz",
        "tiles": [f"{base_url}/tiles/{layer.name}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": layer.minzoom,
        "maxzoom": layer.maxzoom,
        "bounds": [west, south, east, north],
        "center": [
            (west + east) / 2,
            (south + north) / 2,
            centre_zoom(bounds, layer.minzoom, layer.maxzoom),
        ],
        "vector_layers": [
            {
                "id": layer.name,
                "description": layer.description,
                "minzoom": layer.minzoom,
                "maxzoom": layer.maxzoom,
                "fields": layer.fields,
            }
        ],
    }


_PAINT: dict[str, list[dict[str, Any]]] = {
    "districts": [{"type": "line", "paint": {"line-color": "#1f3b73", "line-width": 2.5}}],
    "streets": [{"type": "line", "paint": {"line-color": "#3d6fb6", "line-width": 1.5}}],
    "communities": [
        {
            "type": "line",
            "paint": {"line-color": "#6d8fc7", "line-width": 1, "line-dasharray": [3, 2]},
        }
    ],
    "grids": [{"type": "line", "paint": {"line-color": "#9ab0d6", "line-width": 0.6}}],
    "roads": [{"type": "line", "paint": {"line-color": "#f2c46d", "line-width": 2}}],
    "buildings": [
        {
            "type": "fill-extrusion",
            "paint": {
                "fill-extrusion-color": [
                    "interpolate",
                    ["linear"],
                    ["coalesce", ["get", "people"], 0],
                    0,
                    "#d9d9d9",
                    50,
                    "#f4a261",
                    300,
                    "#e76f51",
                ],
                "fill-extrusion-height": ["get", "height_m"],
                "fill-extrusion-opacity": 0.85,
            },
        }
    ],
    "addresses": [{"type": "circle", "paint": {"circle-radius": 2, "circle-color": "#555"}}],
    "entities": [{"type": "circle", "paint": {"circle-radius": 3, "circle-color": "#2a9d8f"}}],
    "events": [
        {
            "type": "circle",
            "paint": {
                "circle-radius": [
                    "interpolate",
                    ["linear"],
                    ["coalesce", ["get", "events"], 0],
                    0,
                    2,
                    50,
                    12,
                ],
                "circle-color": "#d62828",
                "circle-opacity": 0.6,
            },
        }
    ],
}


def style(base_url: str, bounds: tuple[float, float, float, float]) -> dict[str, Any]:
    """Return a MapLibre style of every layer with no outside resources (no glyphs needed)."""
    west, south, east, north = bounds
    layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": "#f5f3ee"}}
    ]
    for name, layer in LAYERS.items():
        for i, paint in enumerate(_PAINT[name]):
            layers.append(
                {
                    "id": f"{name}-{i}",
                    "source": name,
                    "source-layer": name,
                    "minzoom": layer.minzoom,
                    **paint,
                }
            )
    return {
        "version": 8,
        "name": "citytwin",
        "center": [(west + east) / 2, (south + north) / 2],
        "zoom": centre_zoom(bounds, 0, 22),
        "sources": {
            name: {"type": "vector", "url": f"{base_url}/tiles/{name}.json"} for name in LAYERS
        },
        "layers": layers,
    }
