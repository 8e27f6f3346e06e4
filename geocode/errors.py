"""Errors of the address library and the geocoder."""

from __future__ import annotations

from twin.errors import TwinError


class GeocodeError(TwinError):
    """Root of the address library's and the geocoder's errors."""


class AddressNotFoundError(GeocodeError, LookupError):
    """No standard address has this code (at the date asked)."""


class AddressInputError(GeocodeError, ValueError):
    """An address to create or change is malformed (level, parent, text, location)."""


class VersionConflictError(GeocodeError):
    """The address changed since the caller read it (optimistic concurrency)."""
