"""Listen for data changes on ``twin_tiles`` and invalidate the tile cache.

The listener holds one dedicated connection. When it loses it, it clears the whole cache
(notifications may have been missed meanwhile) and reconnects with a back-off.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from twin.db.notify import listen_forever

if TYPE_CHECKING:
    import asyncio

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

    def connected() -> None:
        cache.clear()  # anything cached before this point may be stale
        if ready is not None:
            ready.set()

    await listen_forever(
        conninfo,
        [CHANNEL],
        lambda _, payload: apply_notification(cache, payload),
        connected,
        cache.clear,
        logger,
    )
