"""The only place that knows HTTP status codes: one table from error types to statuses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from blocks.errors import (
    BlockInputError,
    BlockNotFoundError,
    CodingConflictError,
    CodingInputError,
    EntityClassError,
    EntityNotFoundError,
    LinkError,
    PlacementInputError,
    PlacementNotFoundError,
    ReviewError,
    SerialExhaustedError,
)
from geocode.batch import BatchInputError
from geocode.errors import AddressInputError, AddressNotFoundError, VersionConflictError
from geocode.jobs import JobInputError, JobNotFoundError, JobNotReadyError
from models3d.errors import ContentNotFoundError, UnsafePathError
from tiles.errors import TileCoordError, TileDatabaseError, UnknownLayerError
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
    TileDatabaseError: 503,
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
    BlockInputError: 422,
    BlockNotFoundError: 404,
    PlacementInputError: 422,
    PlacementNotFoundError: 404,
    ReviewError: 409,
}


class ErrorBody(BaseModel):
    """Every error answer: a message, or FastAPI's list of invalid fields (422)."""

    detail: str | list[dict[str, Any]]


#: The error answers any route may give, documented on every operation of the OpenAPI
#: document (:func:`document_errors`), so that clients and schema-based tests know them.
ERROR_RESPONSES: dict[int, str] = {
    400: "a malformed request (tile coordinates, a path that leaves its folder)",
    401: "no API key, or an invalid, revoked or expired one",
    403: "the key's role or scope does not allow this",
    404: "no such address, entity, job, layer or file",
    409: "a conflict: a job not finished yet, a code already taken",
    412: "the record changed since the version sent in If-Match",
    413: "an upload larger than the limit",
    422: "invalid input, with the row and field named",
    429: "the key's rate limit or daily quota is used up",
    503: "the database is unavailable; retry later",
}


def document_errors(app: FastAPI) -> None:
    """Document :data:`ERROR_RESPONSES` on every operation of the app's OpenAPI document.

    A route's own description and model of a status win; FastAPI's default 422 schema (a list
    of invalid fields) becomes :class:`ErrorBody`, which also covers the project's own
    ``{"detail": message}`` answers.
    """
    build = app.openapi
    done: list[bool] = []

    def openapi() -> dict[str, Any]:
        doc = build()
        if done:
            return doc
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas["ErrorBody"] = ErrorBody.model_json_schema()
        body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for item in doc["paths"].values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_RESPONSES.items():
                    known = responses.setdefault(str(status), {"description": description})
                    schema = known.get("content", {}).get("application/json", {}).get("schema")
                    if schema is None or schema.get("$ref", "").endswith("/HTTPValidationError"):
                        known["content"] = body
        done.append(True)
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


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
