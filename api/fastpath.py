"""Fast paths for tiles and single geocoding, answered before routing and middleware.

This ASGI middleware, outermost in the stack, answers a ``GET``/``HEAD`` of
``/tiles/{layers}/{z}/{x}/{y}.mvt`` itself when it can decide everything on its own: the
caller's key is among the recently verified keys (the same cache the ``require`` dependency
uses, with its expiry and rate limit) and the request names known layers and an existing
tile. A cached tile is sent at once; a missing one is built by the tile service on the tile
pool, as the route would. Everything else — unknown or expired keys, bad coordinates, unknown
layers, a database that fails — goes on to the application unchanged, which answers exactly as
without this path (the JSON errors, 401, 403, 429, 503).

:class:`GeocodeFastPath` does the same for ``GET /api/v1/geocode?q=…``: a recently verified
key with the ``geocode`` permission, one ``q`` the route would take (no NUL, at most 10,000
characters) and a loaded geocoder are answered with the same JSON as the route (compressed as
the gzip middleware would); everything else goes on to the application.
"""

from __future__ import annotations

import gzip
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.datastructures import QueryParams

from api.auth import LOCAL, KeyCache
from api.deps import lend_tile_connection
from api.routes.geocode import MAX_QUERY, geocode_record
from api.routes.tiles import MAX_HEADER, MVT_MEDIA_TYPE, etag_matches, tile_headers
from tiles.audience import audience_for
from tiles.service import get_tile
from twin.errors import TwinError
from twin.keys import Principal, RateLimitedError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    from tiles.cache import TileCache

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_TILE_PATH = re.compile(r"^/tiles/([a-z_,]{1,200})/(\d{1,2})/(\d{1,8})/(\d{1,8})\.mvt$")


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in scope["headers"]}


def _known_principal(
    scope: Scope, headers: dict[bytes, bytes], permission: str = "read"
) -> Principal | None:
    """Return the caller when its key is recently verified and may; None: the app must ask."""
    state = scope["app"].state
    if not state.auth_required:
        return LOCAL
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    elif b"x-api-key" in headers:
        key = headers[b"x-api-key"].decode("latin-1").strip()
    else:
        found = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("api_key")
        key = found[0] if found else ""
    keys: KeyCache = state.key_cache
    hit = keys.verified.get(key) if key else None
    if hit is None or hit[1] <= time.monotonic() or not hit[0].can(permission):
        return None
    return hit[0]


class TileFastPath:
    """Serve tiles (200 or 304, with ETag and Cache-Control) before the application."""

    def __init__(self, app: ASGIApp, cache: TileCache, threshold: int, max_age_s: int) -> None:
        self.app = app
        self.cache = cache
        self.threshold = threshold
        self.max_age_s = max_age_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a tile, or pass the request on."""
        match = None
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            match = _TILE_PATH.match(scope["path"])
        if match is None or not await self._serve(scope, match, send):
            await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, match: re.Match[str], send: Send) -> bool:
        headers = _headers(scope)
        if any(
            len(headers.get(h, b"")) > MAX_HEADER for h in (b"if-none-match", b"accept-encoding")
        ):
            return False  # the application refuses it (422)
        principal = _known_principal(scope, headers)
        if principal is None:
            return False
        audience = audience_for(principal.role, principal.scope_code, self.threshold)
        spec, z, x, y = match.group(1), *(int(v) for v in match.groups()[1:])
        app = scope["app"]
        try:
            result = await get_tile(
                lambda: lend_tile_connection(app), self.cache, spec, z, x, y, audience
            )
        except TwinError:
            return False  # the application names the problem (tile, layer, database)
        if principal is not LOCAL:
            try:
                scope["app"].state.key_cache.count(principal)
            except RateLimitedError:
                return False  # the application answers 429
        tile = result.tile
        hit = result.cache_hit
        out = {k.lower(): v for k, v in tile_headers(tile, hit, self.max_age_s).items()}
        inm = headers.get(b"if-none-match")
        if inm is not None and etag_matches(inm.decode("latin-1"), tile.etag):
            await _respond(send, 304, out, b"")
            return True
        if b"gzip" in headers.get(b"accept-encoding", b""):
            out["content-encoding"] = "gzip"
            body = tile.gzipped
        else:
            body = gzip.decompress(tile.gzipped)
        out["content-type"] = MVT_MEDIA_TYPE
        out["content-length"] = str(len(body))
        await _respond(send, 200, out, b"" if scope["method"] == "HEAD" else body)
        return True


#: Answers at least this long are compressed for clients that accept gzip (as by the app's
#: gzip middleware).
GZIP_MIN_BYTES = 1024


class GeocodeFastPath:
    """Answer ``GET /api/v1/geocode`` of known keys before the application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one address, or pass the request on."""
        if not (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"] == "/api/v1/geocode"
            and await self._serve(scope, send)
        ):
            await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, send: Send) -> bool:
        raw_query: bytes = scope.get("query_string", b"")
        if b"%00" in raw_query:
            return False  # the application refuses it (400)
        queries = QueryParams(raw_query).getlist("q")
        state = scope["app"].state
        geocoder = getattr(state, "geocoder", None)
        if len(queries) != 1 or len(queries[0]) > MAX_QUERY or geocoder is None:
            return False
        headers = _headers(scope)
        principal = _known_principal(scope, headers, "geocode")
        if principal is None:
            return False
        try:
            body = await geocode_record(scope["app"], geocoder, queries[0])
        except TwinError:
            return False  # the application names the problem (a database that is away: 503)
        if principal is not LOCAL:
            try:
                state.key_cache.count(principal)
            except RateLimitedError:
                return False  # the application answers 429
        out = {"content-type": "application/json"}
        if len(body) >= GZIP_MIN_BYTES:
            out["vary"] = "Accept-Encoding"
            if b"gzip" in headers.get(b"accept-encoding", b""):
                body = gzip.compress(body, compresslevel=6, mtime=0)
                out["content-encoding"] = "gzip"
        out["content-length"] = str(len(body))
        await _respond(send, 200, out, body)
        return True


async def _respond(send: Send, status: int, headers: dict[str, str], body: bytes) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
