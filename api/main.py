"""The application factory: lifespan, middleware, routers and the exception table."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from api.auth import KeyCache
from api.changes import listen_for_changes as listen_for_library_and_keys
from api.deps import check_async, check_sync
from api.errors import STATUS_CODES, add_exception_handlers, document_errors
from api.fastpath import GeocodeFastPath, TileFastPath
from api.input import NulGuard
from api.logs import redact_access_log
from api.routes import addresses, audit, entities, geocode, health, jobs, placements, viewer
from api.routes.models import models_router
from api.routes.threed import threed_router
from api.routes.tiles import tiles_router
from blocks.placement.jobs import PLACE_JOB
from geocode.jobs import FolderQueue, JobRunner, JobStore
from geocode.service import DescribeCache
from tiles.listener import listen_for_changes
from tiles.service import new_cache
from twin import __version__
from twin.db.connect import local_cluster
from twin.settings import ApiSettings, TileSettings, TwinSettings


def database_conninfo(settings: TwinSettings) -> str:
    """Return the connection string of the pool: ``DATABASE_URL`` or the local cluster's socket.

    The local cluster's address is known from its state file even while it is stopped, so the
    server starts, answers 503 and recovers by itself once the database is up.
    """
    if settings.db.is_external:
        assert settings.db.database_url is not None
        return settings.db.database_url.get_secret_value()
    return local_cluster(settings).conninfo()


def create_app(
    settings: TwinSettings, api: ApiSettings | None = None, tiles: TileSettings | None = None
) -> FastAPI:
    """Build the citytwin application from explicit settings (nothing read at import).

    Parameters
    ----------
    settings
        Where the data home and the database are.
    api
        HTTP settings; defaults apply when omitted.
    tiles
        Vector-tile settings; defaults apply when omitted.
    """
    api = api or ApiSettings()
    redact_access_log()
    tiles = tiles or TileSettings()
    cache = new_cache(tiles.cache_bytes)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        conninfo = database_conninfo(settings)
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            conninfo,
            open=False,
            min_size=settings.db.pool_min_size,
            max_size=settings.db.pool_max_size,
            # Read-only routes use this pool: autocommit spares the ROLLBACK round trip the
            # pool would make when each connection comes back inside a transaction.
            kwargs={"connect_timeout": settings.db.connect_timeout_s, "autocommit": True},
            reconnect_timeout=30,
            # A connection is checked as it is lent (a round trip only when its socket shows
            # the server spoke or left): after a database restart, dead ones are replaced
            # instead of failing a request.
            check=check_async,
        )
        await pool.open(wait=False)
        app.state.pool = pool
        tile_pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            conninfo,
            open=False,
            min_size=tiles.pool_size,
            max_size=tiles.pool_size,
            kwargs={
                "connect_timeout": settings.db.connect_timeout_s,
                "autocommit": True,
                "options": f"-c statement_timeout={tiles.statement_timeout_ms}",
            },
            reconnect_timeout=30,
            check=check_async,
        )
        await tile_pool.open(wait=False)
        app.state.tile_pool = tile_pool
        sync_pool: ConnectionPool[Any] = ConnectionPool(
            conninfo,
            open=False,
            min_size=0,
            max_size=settings.db.pool_max_size,
            kwargs={"connect_timeout": settings.db.connect_timeout_s},
            reconnect_timeout=30,
            check=check_sync,
        )
        sync_pool.open(wait=False)
        app.state.sync_pool = sync_pool
        runner = None
        if api.jobs == "thread":
            runner = JobRunner(
                app.state.job_store,
                lambda: psycopg.connect(conninfo),
                lambda conn: geocode.app_geocoder(app, conn).index,
                {"place": PLACE_JOB},
            )
            runner.start()
            app.state.job_runner = runner
        else:  # the job worker of `twin serve` (api/worker.py) runs them
            app.state.job_runner = FolderQueue(app.state.job_store)
        changes = asyncio.create_task(
            listen_for_library_and_keys(conninfo, app.state.described, app.state.key_cache)
        )
        listener = None
        if tiles.invalidate_on_change:
            listener = asyncio.create_task(
                listen_for_changes(conninfo, cache, app.state.tiles_ready)
            )
        try:
            yield
        finally:
            for task in (listener, changes):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if runner is not None:
                runner.stop()
            await pool.close()
            await tile_pool.close()
            sync_pool.close()

    app = FastAPI(
        title=api.title,
        version=__version__,
        lifespan=lifespan,
        description="citytwin: addresses, blocks, tiles and 3D of a city district.",
    )
    app.state.settings = settings
    app.state.db_timeout_s = float(settings.db.connect_timeout_s)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(NulGuard)
    app.state.tile_cache = cache
    app.state.privacy_threshold = tiles.privacy_threshold
    app.state.auth_required = api.auth
    app.state.key_cache = KeyCache()
    # Off (max 0 codes, never active) when the fast path is off: every answer from the database.
    app.state.described = DescribeCache(
        api.describe_cache_codes if api.geocode_fast_path else 0, siblings=api.describe_siblings
    )
    app.state.job_store = JobStore(settings.home_abs / "jobs")
    app.state.tiles_ready = asyncio.Event()
    app.include_router(health.router)
    app.include_router(addresses.router)
    app.include_router(entities.router)
    app.include_router(geocode.router)
    app.include_router(jobs.router)
    app.include_router(placements.router)
    app.include_router(audit.router)
    app.include_router(tiles_router(cache, tiles.privacy_threshold, tiles.max_age_s))
    app.include_router(threed_router(settings))
    app.include_router(models_router(settings))
    app.include_router(viewer.router)
    add_exception_handlers(app, STATUS_CODES)
    document_errors(app)
    if api.geocode_fast_path:
        app.add_middleware(GeocodeFastPath)
    # Outermost: tiles of known keys are answered before the rest of the stack.
    app.add_middleware(
        TileFastPath,
        cache=cache,
        threshold=tiles.privacy_threshold,
        max_age_s=tiles.max_age_s,
    )
    return app
