"""3D Tiles: the tilesets ``twin 3d`` writes, and the browser viewer that shows them.

``GET /3dtiles`` lists the tilesets; ``GET /3dtiles/{tileset}/tileset.json`` and the content
files under it (glb, pnts, subtrees...) are served with strong ETags (SHA-256 of the content),
``If-None-Match`` → 304 and ``Cache-Control``. ``GET /viewer/{path}`` serves the built viewer
(``web/dist``). The files are found by :mod:`models3d.tiles3d.store`, which refuses any path
that could leave its folder.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from api.auth import needs
from models3d.tiles3d.store import TILESET_JSON, FileStore, StoredFile, TilesetStore
from twin.settings import TwinSettings

#: The viewer built by ``make web-deps`` (``web/build.mjs``), beside the ``api`` package.
DEFAULT_VIEWER_DIR = FsPath(__file__).resolve().parents[2] / "web" / "dist"
#: A relative path of dot-separated names: no empty, hidden or ``..`` segment can match. It is
#: documented in the OpenAPI schema; the store itself refuses other paths with a 400 and reason.
SAFE_PATH = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(/[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)*$"
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "a path that is malformed or leaves its folder"},
    404: {"description": "no such tileset or file"},
}


def _file_path(description: str) -> Any:
    """Declare a path parameter of a file under a folder, with :data:`SAFE_PATH` documented."""
    return Path(description=description, max_length=1000, json_schema_extra={"pattern": SAFE_PATH})


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110 asks).

    Examples
    --------
    >>> etag_matches('W/"ab", "cd"', '"ab"'), etag_matches("*", '"x"'), etag_matches(None, '"x"')
    (True, True, False)
    """
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether the response is to be gzipped: ``Accept-Encoding`` names gzip.

    The same test as the application's GZip middleware, so that an ETag always names the
    representation sent (the middleware compresses whatever this route leaves unencoded).

    Examples
    --------
    >>> accepts_gzip("gzip, deflate, br"), accepts_gzip("br"), accepts_gzip(None)
    (True, False, False)
    """
    return "gzip" in (accept_encoding or "")


def file_response(
    store: FileStore,
    found: StoredFile,
    if_none_match: str | None,
    accept_encoding: str | None,
    cache_control: str,
) -> Response:
    """Answer with the file (gzip-compressed when the client takes it), or 304 when current.

    The compressed file is another representation, so it has its own strong ETag (``-gz``):
    the application's GZip middleware would send both under one ETag, so this route compresses
    by itself and the middleware leaves encoded responses alone.
    """
    gz = accepts_gzip(accept_encoding)
    etag = found.etag[:-1] + '-gz"' if gz else found.etag
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    if gz:
        headers["Content-Encoding"] = "gzip"
        return Response(store.gzipped(found), media_type=found.media_type, headers=headers)
    return FileResponse(found.path, media_type=found.media_type, headers=headers)


def threed_router(settings: TwinSettings) -> APIRouter:
    """Build the routes of the tilesets and of the viewer's files.

    Parameters
    ----------
    settings
        Its ``tilesets_abs`` is the folder ``twin 3d`` writes into; ``models3d.viewer_dir`` the
        built viewer (default ``web/dist`` of this checkout); ``models3d.max_age_s`` the
        ``Cache-Control: max-age`` of content files (``tileset.json`` is always revalidated,
        since a rebuild changes it).
    """
    router = APIRouter(tags=["3d"])
    store = TilesetStore(settings.tilesets_abs)
    viewer = FileStore(
        settings.models3d.viewer_dir or DEFAULT_VIEWER_DIR, "the viewer (build it: make web-deps)"
    )
    content_cache = f"public, max-age={settings.models3d.max_age_s}"

    @router.get("/3dtiles", dependencies=[needs("read")])
    def catalogue(request: Request) -> JSONResponse:
        """List the tilesets with the addresses of their ``tileset.json``."""
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "tilesets": [
                    {"name": name, "url": f"{base}/3dtiles/{name}/{TILESET_JSON}"}
                    for name in store.names()
                ]
            }
        )

    @router.get(
        "/3dtiles/{path:path}",
        dependencies=[needs("read")],
        response_class=Response,
        responses={
            200: {"content": {"model/gltf-binary": {}, "application/json": {}}},
            304: {},
            **_ERRORS,
        },
    )
    def tileset_file(
        path: Annotated[str, _file_path("TILESET/FILE, e.g. city/tileset.json")],
        if_none_match: Annotated[str | None, Header(max_length=1000)] = None,
        accept_encoding: Annotated[str | None, Header(max_length=1000)] = None,
    ) -> Response:
        """Return a tileset's ``tileset.json`` or one of its content files."""
        found = store.get(path)
        cache = "no-cache" if found.path.name == TILESET_JSON else content_cache
        return file_response(store, found, if_none_match, accept_encoding, cache)

    @router.get("/viewer/{path:path}", response_class=Response, responses=_ERRORS)
    def viewer_file(
        path: Annotated[str, _file_path("e.g. threed/threed.html")],
        if_none_match: Annotated[str | None, Header(max_length=1000)] = None,
        accept_encoding: Annotated[str | None, Header(max_length=1000)] = None,
    ) -> Response:
        """Return a file of the browser viewer (``threed/threed.html`` shows 3D Tiles)."""
        found = viewer.get(path)
        return file_response(viewer, found, if_none_match, accept_encoding, "no-cache")

    # HEAD answers as GET does (FastAPI adds no HEAD by itself); one OpenAPI entry per path.
    for route, func in (
        ("/3dtiles/{path:path}", tileset_file),
        ("/viewer/{path:path}", viewer_file),
    ):
        router.add_api_route(route, func, methods=["HEAD"], include_in_schema=False)
    return router
