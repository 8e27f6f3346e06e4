"""Listening for PostgreSQL's notifications on a dedicated connection that comes back.

The caches of the server (tiles, described codes, verified keys) are kept true by change
notifications. :func:`listen_forever` holds one connection that LISTENs on some channels,
hands every notification on, and reconnects with a back-off when it loses the connection;
the caller is told each time it (re)connects and each time it loses it, because notifications
sent meanwhile are lost and whatever the cache holds may be stale.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import psycopg

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Sequence


async def listen_forever(
    conninfo: str,
    channels: Sequence[str],
    on_notify: Callable[[str, str], object],
    on_connect: Callable[[], None],
    on_lost: Callable[[], None],
    logger: logging.Logger,
) -> None:
    """Run until cancelled: LISTEN on ``channels``, call ``on_notify(channel, payload)``.

    ``on_connect`` runs once the channels are listened to, ``on_lost`` when the connection
    is lost (and when the task is cancelled).
    """
    delay = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                for channel in channels:
                    await conn.execute(f"LISTEN {channel}")
                on_connect()
                delay = 0.5
                async for note in conn.notifies():
                    on_notify(note.channel, note.payload)
        except asyncio.CancelledError:
            on_lost()
            raise
        except psycopg.Error as exc:
            logger.warning("change listener lost its connection (%s); retrying", exc)
            on_lost()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
