"""Errors of the 3D models package: one root, one-line subclasses with context."""

from __future__ import annotations

from twin.errors import TwinError


class Model3dError(TwinError):
    """Root of the 3D models package's errors."""


class GeometryError(Model3dError, ValueError):
    """A footprint, height or mesh that cannot be turned into a 3D model (empty, absurd)."""


class GeoreferenceError(Model3dError):
    """A model whose place on the globe is unknown: no georeference and no anchor."""


class IfcError(Model3dError):
    """An IFC file that cannot be read (missing, broken, unsupported schema)."""


class PointCloudError(Model3dError):
    """A LAS/LAZ/COPC file that cannot be read or has no usable coordinate system."""


class CityJsonError(Model3dError):
    """A CityJSON file that cannot be read (malformed, unknown version, no CRS)."""


class TilesetError(Model3dError):
    """A 3D Tiles tileset that cannot be written or that breaks the 3D Tiles rules."""


class ValidatorError(Model3dError):
    """The glTF validator (node + gltf-validator) cannot be run."""


class UnsafePathError(Model3dError, ValueError):
    """A requested path that is malformed or would leave its folder (``..``, absolute)."""


class ContentNotFoundError(Model3dError):
    """A requested tileset, tile or viewer file that does not exist."""
