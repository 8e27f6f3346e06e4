"""Finding tileset files safely (:mod:`models3d.tiles3d.store`), without HTTP."""

from __future__ import annotations

import doctest
import os
from pathlib import Path

import pytest

import models3d.tiles3d.store
from models3d.errors import ContentNotFoundError, UnsafePathError
from models3d.tiles3d.store import TilesetStore, safe_parts


def test_doctests() -> None:
    result = doctest.testmod(models3d.tiles3d.store, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    "path", ["", "/etc/passwd", "a//b", "a/../b", "..", "a/./b", ".git/config", "a\\b", "a\x00b"]
)
def test_unsafe_paths(path: str) -> None:
    with pytest.raises(UnsafePathError, match="not allowed"):
        safe_parts(path)


def _tileset(root: Path, name: str) -> Path:
    folder = root / name
    (folder / "tiles").mkdir(parents=True)
    (folder / "tileset.json").write_text('{"asset": {"version": "1.1"}}')
    (folder / "tiles" / "0.glb").write_bytes(b"glTF-1")
    return folder


def test_names_skip_staging_folders_and_nested_tilesets(tmp_path: Path) -> None:
    _tileset(tmp_path, "city")
    _tileset(tmp_path, "bim/haus")
    _tileset(tmp_path, "city/sub")  # an external tileset inside the city's: not listed apart
    _tileset(tmp_path, ".city.tmp-1234abcd")  # a build in progress
    store = TilesetStore(tmp_path)
    assert store.names() == ["bim/haus", "city"]
    assert store.get("city/sub/tileset.json").path == tmp_path / "city/sub/tileset.json"
    assert TilesetStore(tmp_path / "none").names() == []


def test_etag_follows_the_content(tmp_path: Path) -> None:
    folder = _tileset(tmp_path, "city")
    store = TilesetStore(tmp_path)
    first = store.get("city/tiles/0.glb")
    assert first.media_type == "model/gltf-binary" and first.size == 6
    assert store.get("city/tiles/0.glb").etag == first.etag
    tile = folder / "tiles" / "0.glb"
    tile.write_bytes(b"glTF-2")
    os.utime(tile, ns=(1, 1))  # even an mtime going back is a change
    assert store.get("city/tiles/0.glb").etag != first.etag
    with pytest.raises(ContentNotFoundError, match=r"tileset 'city' has no file 'tiles/1\.glb'"):
        store.get("city/tiles/1.glb")
    with pytest.raises(ContentNotFoundError, match="there is no tileset 'town'"):
        store.get("town/tileset.json")


def test_gzip_cache_keeps_to_its_budget(tmp_path: Path) -> None:
    import gzip

    folder = _tileset(tmp_path, "city")
    for k in range(3):
        (folder / "tiles" / f"{k}.bin").write_bytes(os.urandom(4000))  # incompressible
    store = TilesetStore(tmp_path, gzip_cache_bytes=9000)
    found = [store.get(f"city/tiles/{k}.bin") for k in range(3)]
    packed = [store.gzipped(f) for f in found]
    assert [gzip.decompress(p) for p in packed] == [f.path.read_bytes() for f in found]
    assert store.gzipped(found[2]) is packed[2]  # cached
    assert store.gzipped(found[0]) is not packed[0]  # evicted: 3 × ~4 kB > 9 kB
    (folder / "tiles" / "1.bin").write_bytes(b"changed")  # rewritten since looked up
    assert gzip.decompress(store.gzipped(found[1])) == b"changed"
    assert store.gzipped(found[1]) is not store.gzipped(found[1])  # not cached as the old
