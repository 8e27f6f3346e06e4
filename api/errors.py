"""The only place that knows HTTP status codes: one table from error types to statuses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from blocks.errors import (
    CodingConflictError,
    CodingInputError,
    EntityClassError,
    EntityNotFoundError,
    LinkError,
    SerialExhaustedError,
)
from geocode.batch import BatchInputError
from geocode.errors import AddressInputError, AddressNotFoundError, VersionConflictError
from geocode.jobs import JobInputError, JobNotFoundError, JobNotReadyError
from models3d.errors import ContentNotFoundError, UnsafePathError
from tiles.errors import TileCoordError, UnknownLayerError
from twin.errors import (
    CodeError,
    ConfigError,
    CrsError,
    DatabaseError,
    SchemaVersionError,
    TwinError,
)
from twin.keys import ForbiddenError, KeyInputError, NotAuthenticatedError, RateLimitedError
from twin.privacy import mask_text

logger = logging.getLogger("citytwin.api")


class DatabaseUnavailableError(DatabaseError):
    """The database did not answer in time (down, restarting, or overloaded)."""


#: Error type → HTTP status. The most specific type in an error's MRO wins.
STATUS_CODES: dict[type[Exception], int] = {
    TwinError: 500,
    ConfigError: 500,
    CodeError: 422,
    CrsError: 422,
    DatabaseError: 503,
    DatabaseUnavailableError: 503,
    SchemaVersionError: 503,
    TileCoordError: 400,
    AddressNotFoundError: 404,
    AddressInputError: 422,
    VersionConflictError: 412,
    UnknownLayerError: 404,
    EntityNotFoundError: 404,
    NotAuthenticatedError: 401,
    ForbiddenError: 403,
    RateLimitedError: 429,
    KeyInputError: 422,
    BatchInputError: 422,
    JobInputError: 422,
    JobNotFoundError: 404,
    JobNotReadyError: 409,
    EntityClassError: 422,
    CodingInputError: 422,
    LinkError: 422,
    CodingConflictError: 409,
    SerialExhaustedError: 409,
    UnsafePathError: 400,
    ContentNotFoundError: 404,
}


def status_for(exc: Exception, table: dict[type[Exception], int]) -> int:
    """Return the status of the closest type of ``exc`` in ``table``."""
    for cls in type(exc).__mro__:
        if cls in table:
            return table[cls]
    return 500


def add_exception_handlers(app: FastAPI, table: dict[type[Exception], int]) -> None:
    """Answer every :class:`TwinError` with ``{"detail": message}`` and its status."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        status = status_for(exc, table)
        if status >= 500:
            logger.error("%s %s: %s", request.method, request.url.path, mask_text(str(exc)))
        return JSONResponse(status_code=status, content={"detail": str(exc)})

    app.add_exception_handler(TwinError, handler)
