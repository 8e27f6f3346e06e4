"""Listen for data changes on ``twin_tiles`` and invalidate the tile cache.

The listener holds one dedicated connection. When it loses it, it clears the whole cache
(notifications may have been missed meanwhile) and reconnects with a back-off.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

import psycopg

if TYPE_CHECKING:
    from tiles.cache import TileCache

logger = logging.getLogger("citytwin.tiles")
CHANNEL = "twin_tiles"


def apply_notification(cache: TileCache, payload: str) -> int:
    """Apply one notification's payload to the cache; return the tiles dropped."""
    try:
        msg = json.loads(payload)
        w, s, e, n = (float(v) for v in msg["bbox"])
        table = str(msg["table"])
    except (ValueError, KeyError, TypeError):
        logger.warning("malformed tile notification, clearing the cache: %.200s", payload)
        cache.clear()
        return -1
    return cache.invalidate(table, (w, s, e, n))


async def listen_for_changes(
    conninfo: str, cache: TileCache, ready: asyncio.Event | None = None
) -> None:
    """Run forever: LISTEN on ``twin_tiles`` and invalidate the cache on each message."""
    delay = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                cache.clear()  # anything cached before this point may be stale
                delay = 0.5
                if ready is not None:
                    ready.set()
                async for note in conn.notifies():
                    apply_notification(cache, note.payload)
        except asyncio.CancelledError:
            raise
        except psycopg.Error as exc:
            logger.warning("tile change listener lost its connection (%s); retrying", exc)
            cache.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
