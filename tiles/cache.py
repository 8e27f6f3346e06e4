"""An in-memory tile cache that knows when the data under a tile changed.

PostgreSQL triggers (migration 0002) send, after every statement that changes a mapped
table, the table's name and the bounding box of the changed rows on channel ``twin_tiles``.
:class:`TileCache` drops exactly the cached tiles of layers built from that table whose
bounds meet that box; every other tile stays cached. A generation counter guards the race
between a tile being built from old rows and a change arriving meanwhile: a tile built before
an invalidation is not stored.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tiles.tms import TileCoord, tiles_covering

if TYPE_CHECKING:
    from tiles.audience import Audience

#: A cache key: layer names, z, x, y, privacy threshold, exact-count scope.
CacheKey = tuple[tuple[str, ...], int, int, int, int, str]


@dataclass(frozen=True)
class CachedTile:
    """A tile as served: gzip-compressed bytes, its ETag and its uncompressed size."""

    gzipped: bytes
    etag: str
    raw_size: int


def make_etag(raw: bytes) -> str:
    """Return a strong ETag for tile bytes.

    Examples
    --------
    >>> make_etag(b"")
    '"e3b0c44298fc1c14"'
    """
    return '"' + hashlib.sha256(raw).hexdigest()[:16] + '"'


class TileCache:
    """A byte-bounded LRU of tiles with invalidation by table and bounding box.

    Parameters
    ----------
    max_bytes
        Upper bound of the cached (compressed) bytes.
    tables_of
        Layer name → the tables its tiles are built from.
    """

    def __init__(self, max_bytes: int, tables_of: dict[str, tuple[str, ...]]) -> None:
        self.max_bytes = max_bytes
        self._tables_of = tables_of
        self._entries: OrderedDict[CacheKey, CachedTile] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.generation = 0
        #: How often each table was reported changed, and the cache cleared (for extents).
        self._changes: dict[str, int] = {}
        self.clears = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> CachedTile | None:
        """Return a cached tile and mark it recently used."""
        with self._lock:
            tile = self._entries.get(key)
            if tile is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return tile

    def put(self, key: CacheKey, tile: CachedTile, generation: int) -> bool:
        """Store a tile built at ``generation``; refuse it when data changed since."""
        with self._lock:
            if generation != self.generation or len(tile.gzipped) > self.max_bytes:
                return False
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.gzipped)
            self._entries[key] = tile
            self._bytes += len(tile.gzipped)
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.gzipped)
            return True

    def invalidate(self, table: str, bbox_4326: tuple[float, float, float, float]) -> int:
        """Drop the tiles built from ``table`` that meet ``bbox_4326``; return how many."""
        with self._lock:
            self.generation += 1
            self._changes[table] = self._changes.get(table, 0) + 1
            doomed = [key for key in self._entries if self._touches(key, table, bbox_4326)]
            for key in doomed:
                self._bytes -= len(self._entries.pop(key).gzipped)
            return len(doomed)

    def clear(self) -> None:
        """Drop every tile (e.g. when change notifications may have been missed)."""
        with self._lock:
            self.generation += 1
            self.clears += 1
            self._entries.clear()
            self._bytes = 0

    def changes_of(self, table: str) -> int:
        """Return how many changes of ``table`` were reported so far."""
        return self._changes.get(table, 0)

    def _touches(self, key: CacheKey, table: str, bbox: tuple[float, float, float, float]) -> bool:
        names, z, x, y, _, _ = key
        if not any(table in self._tables_of.get(name, ()) for name in names):
            return False
        # A buffer of one tile: MVT geometries are clipped with a buffer beyond the edge.
        xmin, ymin, xmax, ymax = tiles_covering(bbox, z)
        return xmin - 1 <= x <= xmax + 1 and ymin - 1 <= y <= ymax + 1

    def stats(self) -> dict[str, int]:
        """Return counters for monitoring."""
        return {
            "tiles": len(self._entries),
            "bytes": self._bytes,
            "hits": self.hits,
            "misses": self.misses,
            "generation": self.generation,
        }


def key_for(names: tuple[str, ...], coord: TileCoord, audience: Audience) -> CacheKey:
    """Return the cache key of a request."""
    return (names, coord.z, coord.x, coord.y, audience.threshold, audience.scope)
