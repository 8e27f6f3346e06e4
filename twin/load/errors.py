"""Errors of loading and importing data."""

from __future__ import annotations

from twin.errors import TwinError


class DataImportError(TwinError):
    """A file cannot be imported at all (unreadable, empty, not what its name says)."""


class ReferenceDataError(TwinError):
    """The project's reference data is missing or inconsistent."""
