"""The root error of the project and the kernel's own errors.

Every package derives its errors from :class:`TwinError`, so the command line
and the API can turn any of them into one clear sentence (the command line)
or a JSON body with a status code (``api/errors.py``).
"""

from __future__ import annotations


class TwinError(Exception):
    """Root of every error citytwin raises on purpose.

    The message is one sentence a user can act on: what is wrong and what to do.
    """


class ConfigError(TwinError):
    """A setting is missing, malformed or inconsistent."""


class CodeError(TwinError, ValueError):
    """A code (administrative, grid, building, room, ID, credit code) is malformed."""


class CrsError(TwinError, ValueError):
    """A coordinate reference system is unknown or a coordinate is outside its area."""


class DatabaseError(TwinError):
    """The database cannot be reached, is too old, or is in an unexpected state."""


class ClusterError(DatabaseError):
    """The project's own PostgreSQL cluster cannot be created, started or stopped."""


class SchemaVersionError(DatabaseError):
    """The database schema is newer than this code or its migrations were altered."""
