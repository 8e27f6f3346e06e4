"""The ASGI entry point, ``uvicorn api.asgi:app``: the one module that builds settings at import."""

from __future__ import annotations

from api.main import create_app
from twin.settings import ApiSettings, TwinSettings

app = create_app(TwinSettings(), ApiSettings())
