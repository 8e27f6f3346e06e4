"""Every dependency of the routes and its typed alias."""

from __future__ import annotations

import select
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from api.errors import DatabaseUnavailableError
from twin.settings import TwinSettings


def _quiet(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Whether an idle connection's socket has nothing to read: no message, no end of file.

    A server that goes away (restart, crash, ``pg_terminate_backend``) sends its last message
    and closes the socket, which makes it readable: only then is a round trip needed.
    """
    if conn.closed:
        return False
    readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    return not readable


async def check_async(conn: psycopg.AsyncConnection[Any]) -> None:
    """Check a pooled connection as it is lent: a round trip only when its socket stirred."""
    if not _quiet(conn):
        await AsyncConnectionPool.check_connection(conn)


def check_sync(conn: psycopg.Connection[Any]) -> None:
    """:func:`check_async` for the synchronous pool."""
    if not _quiet(conn):
        ConnectionPool.check_connection(conn)


def get_pool(request: Request) -> AsyncConnectionPool[Any]:
    """Return the application's connection pool."""
    pool: AsyncConnectionPool[Any] = request.app.state.pool
    return pool


@asynccontextmanager
async def lend_connection(app: Any) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """Lend a connection of the application's pool; 503 when the database does not answer."""
    pool: AsyncConnectionPool[Any] = app.state.pool
    try:
        async with pool.connection(timeout=app.state.db_timeout_s) as conn:
            yield conn
    except (PoolTimeout, psycopg.OperationalError) as exc:
        raise DatabaseUnavailableError(
            "the database is unavailable; the service recovers by itself when it is back."
        ) from exc


@asynccontextmanager
async def lend_tile_connection(app: Any) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """Lend a connection of the tile pool (autocommit); 503 when none comes.

    Tile queries are single read-only statements: in autocommit they need no BEGIN and
    COMMIT round trips. The pool checks a connection as the others do (:func:`check_async`,
    a round trip only when its socket stirred); one broken meanwhile fails its query, goes
    back to the pool, which discards it, and the tile service tries once more on another.
    """
    pool: AsyncConnectionPool[Any] = app.state.tile_pool
    try:
        conn = await pool.getconn(timeout=app.state.db_timeout_s)
    except (PoolTimeout, psycopg.OperationalError) as exc:
        raise DatabaseUnavailableError(
            "the database is unavailable; the service recovers by itself when it is back."
        ) from exc
    try:
        yield conn
    finally:
        await pool.putconn(conn)


async def get_conn(request: Request) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """Lend a pooled connection for one request; 503 when the database does not answer.

    The connection is in autocommit mode: for reads (a write needs ``conn.transaction()``).
    """
    async with lend_connection(request.app) as conn:
        yield conn


def get_sync_conn(request: Request) -> Iterator[psycopg.Connection[Any]]:
    """Lend a pooled blocking connection (for routes that run in the thread pool).

    The transaction is committed when the route returns normally and rolled back otherwise.
    """
    pool: ConnectionPool[Any] = request.app.state.sync_pool
    try:
        with pool.connection(timeout=request.app.state.db_timeout_s) as conn:
            yield conn
    except (PoolTimeout, psycopg.OperationalError) as exc:
        raise DatabaseUnavailableError(
            "the database is unavailable; the service recovers by itself when it is back."
        ) from exc


def get_settings(request: Request) -> TwinSettings:
    """Return the settings the application was built with."""
    cfg: TwinSettings = request.app.state.settings
    return cfg


PoolDep = Annotated[AsyncConnectionPool[Any], Depends(get_pool)]
ConnDep = Annotated[psycopg.AsyncConnection[Any], Depends(get_conn)]
SettingsDep = Annotated[TwinSettings, Depends(get_settings)]
SyncConnDep = Annotated[psycopg.Connection[Any], Depends(get_sync_conn)]
