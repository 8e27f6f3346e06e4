"""Keep the API's in-memory caches true: listen for the database's change notifications.

Two channels (migration ``0013_change_notify``): ``twin_library`` (standard addresses or
administrative units changed: the cache of described codes is emptied) and ``twin_keys`` (a
key was revoked, changed or deleted: it is dropped from the verified keys at once). The
listener holds one dedicated connection; while it has none, the described-codes cache is off
(every answer is read from the database) and nothing it missed can be trusted, so it empties
both caches whenever it (re)connects.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from twin.db.notify import listen_forever

if TYPE_CHECKING:
    from api.auth import KeyCache
    from geocode.service import DescribeCache

logger = logging.getLogger("citytwin.api")
LIBRARY_CHANNEL = "twin_library"
KEYS_CHANNEL = "twin_keys"


def apply_change(channel: str, payload: str, described: DescribeCache, keys: KeyCache) -> None:
    """Apply one notification to the caches."""
    if channel == KEYS_CHANNEL:
        keys.forget(payload)
    else:
        described.clear()


async def listen_for_changes(conninfo: str, described: DescribeCache, keys: KeyCache) -> None:
    """Run forever: LISTEN on both channels and apply each notification."""

    def connected() -> None:
        described.clear()  # what was cached before this point may be stale
        keys.forget_all()
        described.active = True

    def lost() -> None:
        described.active = False
        described.clear()

    await listen_forever(
        conninfo,
        [LIBRARY_CHANNEL, KEYS_CHANNEL],
        lambda channel, payload: apply_change(channel, payload, described, keys),
        connected,
        lost,
        logger,
    )
