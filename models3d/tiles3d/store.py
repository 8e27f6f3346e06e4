"""Find the files of the tilesets that ``twin 3d`` wrote, safely, with strong validators.

The HTTP layer adapts this: a request path such as ``city/tiles/9/840/190.glb`` becomes a
:class:`StoredFile` (where it is, its media type and a content-hash ETag), or an error. Paths are
checked segment by segment before any file system access (no ``..``, no absolute paths, no hidden
folders such as the staging folders of a build in progress), and the file found must still lie
inside its root once symbolic links are resolved.

A tileset is any folder under the root that holds a ``tileset.json``: ``city``, ``rooms/CODE``,
``bim/NAME``, ``pointcloud/NAME``, ``cityjson/NAME`` (the folders of ``twin 3d``).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from models3d.errors import ContentNotFoundError, UnsafePathError

TILESET_JSON = "tileset.json"
#: Media types by suffix; anything else (pnts, b3dm, i3dm, cmpt, subtree, bin) is binary.
MEDIA_TYPES = {
    ".json": "application/json",
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".ktx2": "image/ktx2",
    ".wasm": "application/wasm",
}
BINARY = "application/octet-stream"
#: Deepest folder that may hold a tileset (``kind/name``).
_MAX_TILESET_DEPTH = 2
_MAX_SEGMENTS = 32


@dataclass(frozen=True)
class StoredFile:
    """A file to serve: its path, media type, strong ETag (quoted) and size in bytes."""

    path: Path
    media_type: str
    etag: str
    size: int


def media_type(name: str) -> str:
    """Return the media type of a file name.

    Examples
    --------
    >>> media_type("tiles/9/1/2.glb")
    'model/gltf-binary'
    >>> media_type("0.pnts")
    'application/octet-stream'
    """
    return MEDIA_TYPES.get(PurePosixPath(name).suffix.lower(), BINARY)


def safe_parts(path: str) -> tuple[str, ...]:
    """Split a request path into segments that cannot leave their folder.

    Raises
    ------
    UnsafePathError
        On an absolute path, an empty, ``.``, ``..`` or hidden segment, a backslash or a
        control character.

    Examples
    --------
    >>> safe_parts("city/tiles/9/1/2.glb")
    ('city', 'tiles', '9', '1', '2.glb')
    >>> safe_parts("city/../../etc/passwd")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    models3d.errors.UnsafePathError: the path 'city/../../etc/passwd' is not allowed: ...
    """
    parts = tuple(path.split("/"))
    bad = (
        not path
        or len(parts) > _MAX_SEGMENTS
        or any(not p or p.startswith(".") or "\\" in p for p in parts)
        or any(ord(c) < 32 for c in path)
    )
    if bad:
        raise UnsafePathError(
            f"the path {path[:200]!r} is not allowed: use a relative path of plain names "
            "(no '..', '.', hidden or empty segments, no leading '/')"
        )
    return parts


def content_etag(data: bytes) -> str:
    """Return the strong ETag (quoted) of some content: its SHA-256, 40 hex digits."""
    return f'"{hashlib.sha256(data).hexdigest()[:40]}"'


class FileStore:
    """Files under one root folder, with their ETags cached by (inode, size, mtime).

    Parameters
    ----------
    root
        The folder; nothing outside it is ever served.
    what
        What the folder holds, for error messages (e.g. "the viewer").
    cache_entries
        How many files' ETags to remember.
    gzip_cache_bytes
        How many bytes of gzip-compressed files to keep (most recently used first).
    """

    def __init__(
        self, root: Path, what: str, cache_entries: int = 4096, gzip_cache_bytes: int = 64 << 20
    ) -> None:
        self.root = root.expanduser().resolve()
        self.what = what
        self._etags: OrderedDict[Path, tuple[tuple[int, int, int], str]] = OrderedDict()
        self._cache_entries = cache_entries
        self._gzipped: OrderedDict[str, bytes] = OrderedDict()
        self._gzip_bytes = 0
        self._gzip_budget = gzip_cache_bytes
        self._lock = threading.Lock()

    def get(self, path: str) -> StoredFile:
        """Return the file at a request path under the root.

        Raises
        ------
        UnsafePathError
            When the path is malformed or leaves the root.
        ContentNotFoundError
            When there is no such file.
        """
        return self.file(safe_parts(path), path)

    def file(self, parts: tuple[str, ...], shown: str, what: str | None = None) -> StoredFile:
        """Return the file at checked segments (``shown`` and ``what`` name it in errors)."""
        what = what or self.what
        try:
            real = self.root.joinpath(*parts).resolve(strict=True)
            stat = real.stat()
        except OSError:
            raise ContentNotFoundError(f"{what} has no file {shown!r}") from None
        if not real.is_relative_to(self.root):
            raise UnsafePathError(f"the path {shown!r} leads outside {what}")
        if not real.is_file():
            raise ContentNotFoundError(f"{what} has no file {shown!r}")
        key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        return StoredFile(real, media_type(real.name), self._etag(real, key), stat.st_size)

    def _etag(self, path: Path, key: tuple[int, int, int]) -> str:
        """Return the file's content hash, computed again only when the file changed."""
        with self._lock:
            cached = self._etags.get(path)
            if cached is not None and cached[0] == key:
                self._etags.move_to_end(path)
                return cached[1]
        etag = content_etag(path.read_bytes())
        with self._lock:
            self._etags[path] = (key, etag)
            while len(self._etags) > self._cache_entries:
                self._etags.popitem(last=False)
        return etag

    def gzipped(self, found: StoredFile) -> bytes:
        """Return a file gzip-compressed (level 6), cached by its ETag.

        A file rewritten since ``found`` was looked up is compressed as it now is, and not
        cached under the old ETag.
        """
        with self._lock:
            cached = self._gzipped.get(found.etag)
            if cached is not None:
                self._gzipped.move_to_end(found.etag)
                return cached
        raw = found.path.read_bytes()
        packed = gzip.compress(raw, compresslevel=6, mtime=0)
        if content_etag(raw) != found.etag or len(packed) > self._gzip_budget:
            return packed
        with self._lock:
            if found.etag not in self._gzipped:
                self._gzipped[found.etag] = packed
                self._gzip_bytes += len(packed)
            while self._gzip_bytes > self._gzip_budget:
                self._gzip_bytes -= len(self._gzipped.popitem(last=False)[1])
        return packed


class TilesetStore(FileStore):
    """The tilesets under one folder (``twin 3d``'s output), addressed as ``NAME/FILE``."""

    def __init__(
        self, root: Path, cache_entries: int = 4096, gzip_cache_bytes: int = 64 << 20
    ) -> None:
        super().__init__(root, "the 3D tiles folder", cache_entries, gzip_cache_bytes)

    def get(self, path: str) -> StoredFile:
        """Return the file at ``TILESET/FILE``, e.g. ``city/tileset.json``.

        The tileset is the shortest leading part of the path that is a folder with a
        ``tileset.json`` (``city``, ``rooms/CODE``...).

        Raises
        ------
        UnsafePathError
            When the path is malformed or leaves the folder.
        ContentNotFoundError
            When there is no such tileset, or no such file in it.
        """
        parts = safe_parts(path)
        for depth in range(1, min(_MAX_TILESET_DEPTH, len(parts) - 1) + 1):
            if self.root.joinpath(*parts[:depth], TILESET_JSON).is_file():
                name = "/".join(parts[:depth])
                return self.file(parts, "/".join(parts[depth:]), f"the tileset {name!r}")
        if (self.root.joinpath(*parts) / TILESET_JSON).is_file():
            raise ContentNotFoundError(f"{path!r} is a tileset: ask for {path}/{TILESET_JSON}")
        raise ContentNotFoundError(
            f"there is no tileset {'/'.join(parts[:-1]) or parts[0]!r}: build it with "
            "'twin 3d build' (or another 'twin 3d' command) or list them at /3dtiles"
        )

    def names(self) -> list[str]:
        """Return the names of the tilesets, sorted (``city``, ``rooms/CODE``...)."""
        found: list[str] = []
        if not self.root.is_dir():
            return found
        for depth in range(1, _MAX_TILESET_DEPTH + 1):
            pattern = "/".join(["*"] * depth + [TILESET_JSON])
            for hit in self.root.glob(pattern):
                rel = hit.parent.relative_to(self.root).parts
                is_nested = any(
                    (self.root.joinpath(*rel[:d]) / TILESET_JSON).is_file()
                    for d in range(1, len(rel))
                )
                if not is_nested and not any(p.startswith(".") for p in rel):
                    found.append("/".join(rel))
        return sorted(found)
