"""Errors of the tile service."""

from __future__ import annotations

from twin.errors import TwinError


class TileError(TwinError):
    """Root of the tile service's errors."""


class TileCoordError(TileError, ValueError):
    """A z/x/y outside the tile matrix, or a zoom the service does not serve."""


class UnknownLayerError(TileError, LookupError):
    """A layer name the service does not know."""


class TileDatabaseError(TileError):
    """The database failed while building a tile, twice (e.g. it is restarting)."""
