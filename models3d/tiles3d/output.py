"""Write a tileset folder all at once: build in a temporary sibling, then swap it into place.

Readers never see a half-written tileset: the new folder is complete before it replaces the old
one, and on Linux the two folders are exchanged in one step (``renameat2`` with
``RENAME_EXCHANGE``), so a server reading the folder meanwhile never finds it missing; elsewhere
(or on a file system without it) two renames leave a gap of microseconds. Tiles that did not
change are hard-linked from the old folder, not rewritten, and ``manifest.json`` records each
tile's content hash for the next build.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import sys
import uuid
from typing import TYPE_CHECKING, Any

from models3d.errors import TilesetError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MANIFEST = "manifest.json"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def read_manifest(out: Path) -> dict[str, str]:
    """Return the ``{content uri: hash}`` of the tileset at ``out`` ({} if none or unreadable)."""
    try:
        doc = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in doc.get("tiles", {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def write_json(path: Path, doc: Any) -> None:
    """Write ``doc`` as compact UTF-8 JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def reuse(old: Path, new: Path) -> None:
    """Hard-link (or copy, across file systems) an unchanged file into the new folder."""
    new.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(old, new)
    except OSError:
        shutil.copy2(old, new)


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step; ``False`` where the system cannot.

    Raises
    ------
    OSError
        When the exchange is supported but fails (e.g. a path vanished).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library without renameat2 (glibc < 2.28)
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # the file system cannot
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


@contextlib.contextmanager
def staged_dir(out: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``out``; on success it replaces ``out``.

    On an error the temporary folder is removed and ``out`` is left as it was.

    Raises
    ------
    TilesetError
        When ``out`` exists and is not a folder.
    """
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise TilesetError(f"{out} exists and is not a folder: choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    tmp = out.parent / f".{out.name}.tmp-{tag}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists() and exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # now the previous tileset
        return
    old = out.parent / f".{out.name}.old-{tag}"
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
