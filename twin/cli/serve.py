"""``twin serve``: the API and the viewer over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from twin.settings import ApiSettings


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Serve the API and the viewer (default http://127.0.0.1:8000)."""
    import uvicorn

    api = ApiSettings()
    uvicorn.run(
        "api.asgi:app",
        host=host or api.host,
        port=port or api.port,
        workers=workers,
        reload=reload,
        log_level="info",
    )
