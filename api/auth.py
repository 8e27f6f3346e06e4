"""Who calls and what they may do: API keys, roles, rate limits (see twin/keys.py).

Every route names the permission it needs with ``Depends(require("..."))`` (or on its router);
the documented public routes (health, the viewer's static files, the OpenAPI document) name
none. The key comes as ``Authorization: Bearer <key>``, as ``X-API-Key: <key>``, or — for
map and 3D clients that cannot set headers on every tile request — as ``?api_key=<key>`` on
GET requests. Verified keys are cached for :data:`CACHE_S` seconds; a revocation reaches the
server at once through the database's change notifications (:mod:`api.changes`), and within
that time at the latest. A key with a rate limit (system keys) gets 429 beyond it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from psycopg_pool import PoolTimeout

from api.errors import DatabaseUnavailableError
from twin.keys import (
    ForbiddenError,
    NotAuthenticatedError,
    Principal,
    RateLimitedError,
    verify_key,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

#: Seconds a verified key is trusted without asking the database again.
CACHE_S = 30.0
#: The principal of a server started with authentication off (a local demo).
LOCAL = Principal("local", "local", "admin")


@dataclass
class KeyCache:
    """Verified keys, and the recent requests of rate-limited keys."""

    verified: dict[str, tuple[Principal, float]] = field(default_factory=dict)
    minute: dict[str, deque[float]] = field(default_factory=dict)
    day: dict[str, tuple[str, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Bumped whenever keys are forgotten: a key verified before is not cached after.
    generation: int = 0

    def forget(self, key_id: str) -> None:
        """Drop a key from the verified keys (it was revoked or changed)."""
        self.generation += 1
        for key, (principal, _) in list(self.verified.items()):
            if principal.key_id == key_id:
                self.verified.pop(key, None)

    def forget_all(self) -> None:
        """Drop every verified key (changes may have been missed)."""
        self.generation += 1
        self.verified.clear()

    def count(self, p: Principal) -> None:
        """Count one request of a rate-limited key; raise when it is over its limits."""
        if p.rate_per_minute is None and p.quota_per_day is None:
            return
        now = time.monotonic()
        today = time.strftime("%Y-%m-%d", time.gmtime())
        with self.lock:
            recent = self.minute.setdefault(p.key_id, deque())
            while recent and recent[0] < now - 60:
                recent.popleft()
            if p.rate_per_minute is not None and len(recent) >= p.rate_per_minute:
                raise RateLimitedError(
                    f"rate limit of {p.rate_per_minute} requests a minute reached: retry later"
                )
            day, used = self.day.get(p.key_id, (today, 0))
            used = used if day == today else 0
            if p.quota_per_day is not None and used >= p.quota_per_day:
                raise RateLimitedError(f"daily quota of {p.quota_per_day:,} requests used up")
            recent.append(now)
            self.day[p.key_id] = (today, used + 1)


def _key_of(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if request.headers.get("x-api-key"):
        return request.headers["x-api-key"].strip()
    if request.method in ("GET", "HEAD"):
        return request.query_params.get("api_key")
    return None


def _verify(request: Request, key: str) -> Principal:
    try:
        with request.app.state.sync_pool.connection(timeout=request.app.state.db_timeout_s) as conn:
            return verify_key(conn, key)
    except (PoolTimeout, psycopg.OperationalError) as exc:
        raise DatabaseUnavailableError(
            "the database is unavailable; the service recovers by itself when it is back."
        ) from exc


async def current_principal(request: Request) -> Principal:
    """Return who calls (verifying the key, from the cache when it can), or raise 401."""
    if not request.app.state.auth_required:
        return LOCAL
    key = _key_of(request)
    if not key:
        raise NotAuthenticatedError(
            "this route needs an API key: send 'Authorization: Bearer <key>' "
            "(keys come from `twin keys create`)"
        )
    cache: KeyCache = request.app.state.key_cache
    hit = cache.verified.get(key)
    if hit is not None and hit[1] > time.monotonic():
        principal = hit[0]
    else:
        generation = cache.generation
        principal = await run_in_threadpool(_verify, request, key)
        if generation == cache.generation:  # no key was revoked meanwhile
            cache.verified[key] = (principal, time.monotonic() + CACHE_S)
    cache.count(principal)
    return principal


def require(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    """Return a dependency that admits principals whose role has ``permission``."""

    async def dependency(request: Request) -> Principal:
        principal = await current_principal(request)
        if not principal.can(permission):
            raise ForbiddenError(
                f"the {principal.role} role may not do this (it needs '{permission}')"
            )
        return principal

    dependency.__name__ = f"require_{permission}"
    return dependency


def needs(permission: str) -> Any:
    """``Depends(require(permission))``, for route and router ``dependencies=[...]``."""
    return Depends(require(permission))
