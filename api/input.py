"""Input that PostgreSQL cannot store is refused at the door, with a clear error.

PostgreSQL text cannot hold the NUL character. Request bodies are checked by
:class:`ApiModel` (the base of every request model: a 422 naming the field); the path and the
query string by :class:`NulGuard` (a 400 before any route runs).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, field_validator
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

NUL_MESSAGE = "must not contain the NUL character (\\u0000)"


def _check(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(NUL_MESSAGE)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key)
            _check(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check(item)


class ApiModel(BaseModel):
    """A request body: no text in it, however deeply nested, holds a NUL character.

    >>> ApiModel.model_validate({})
    ApiModel()
    """

    @field_validator("*", mode="after")
    @classmethod
    def _without_nul(cls, value: Any) -> Any:
        _check(value)
        return value


class NulGuard:
    """ASGI middleware: a path or query string with a NUL character gets a 400."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse the request, or pass it on."""
        if scope["type"] == "http" and (
            "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")
        ):
            body = {"detail": f"the path or query string {NUL_MESSAGE}"}
            await JSONResponse(body, status_code=400)(scope, receive, send)
            return
        await self.app(scope, receive, send)
