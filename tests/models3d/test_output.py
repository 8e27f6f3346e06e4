"""Swapping a finished tileset into place (:mod:`models3d.tiles3d.output`)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from models3d.tiles3d import output
from models3d.tiles3d.citymodel import build_city_tileset
from tests.models3d.conftest import synthetic_table

_READER = """
import sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
reads = misses = 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    reads += 1
    try:
        open(path, "rb").close()
    except OSError:
        misses += 1
print(reads, misses)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_a_reader_never_finds_the_tileset_missing_during_rebuilds(tmp_path: Path) -> None:
    out, table = tmp_path / "city", synthetic_table(30)
    build_city_tileset(table, out)
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(out / "tileset.json"), "2.5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.2)
    builds, end = 0, time.monotonic() + 2
    while time.monotonic() < end:
        build_city_tileset(table, out)
        builds += 1
    reads, misses = map(int, reader.communicate(timeout=30)[0].split())
    # Two renames per swap left it missing hundreds of times in as many builds.
    assert builds > 20 and reads > 1000
    assert misses == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["city"]  # no staging folder left


def test_exchange_swaps_two_folders(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not output.exchange(a, b):
        pytest.skip("this system has no atomic exchange")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"
    with pytest.raises(FileNotFoundError):
        output.exchange(a, tmp_path / "missing")


def test_without_exchange_two_renames_still_replace_the_tileset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "exchange", lambda *_: False)
    out = tmp_path / "city"
    build_city_tileset(synthetic_table(20, seed=1), out)
    first = (out / "tileset.json").read_bytes()
    report = build_city_tileset(synthetic_table(20, seed=2), out)
    assert report.written == report.tiles and (out / "tileset.json").read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["city"]
