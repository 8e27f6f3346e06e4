"""``twin tiles export``: progress tile by tile up to the total, and a summary line (tiles,
bytes, seconds) on any output, terminal or not."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.utils.cli import twin
from tests.utils.tiles import CX, CY, SIDE, add_building, add_units
from tiles.export import export_pmtiles, plan_tiles

pytestmark = pytest.mark.db
BBOX = (CX, CY, CX + SIDE, CY + SIDE)


@pytest.fixture(scope="module")
def city(blank_db: dict[str, str]) -> Iterator[dict[str, str]]:
    with psycopg.connect(blank_db["conninfo"], autocommit=True) as conn:
        add_units(conn)
        for serial in range(1, 5):
            add_building(conn, serial, CX + 0.002 * serial, CY + 0.001 * serial)
    yield blank_db


def test_progress_is_reported_after_every_tile_up_to_the_total(
    city: dict[str, str], tmp_path: Path
) -> None:
    calls: list[tuple[int, int]] = []
    with psycopg.connect(city["conninfo"]) as conn:
        report = export_pmtiles(
            conn, tmp_path / "a.pmtiles", "buildings,grids", BBOX, 13, 16, 5,
            progress=lambda done, total: calls.append((done, total)),
        )  # fmt: skip
    total = len(plan_tiles(BBOX, 13, 16))
    assert total > 4
    assert calls == [(done, total) for done in range(1, total + 1)]
    assert report.tiles_written + report.tiles_empty == total and report.tiles_written > 0


def test_the_command_sums_up_and_logs_progress_when_not_on_a_terminal(
    city: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "field.pmtiles"
    env = {**os.environ, "DATABASE_URL": city["url"]}
    bbox = ",".join(str(v) for v in BBOX)
    done = twin(env, "tiles", "export", str(out), "--bbox", bbox, "--layers", "buildings,grids",
                "--minzoom", "13", "--maxzoom", "16")  # fmt: skip
    assert done.returncode == 0, done.stderr
    total = len(plan_tiles(BBOX, 13, 16))
    # A captured output is no terminal: progress as lines on stderr, each tenth once.
    steps = [tuple(map(int, m)) for m in re.findall(r"^tiles (\d+)/(\d+)$", done.stderr, re.M)]
    assert steps[-1] == (total, total)
    assert [d for d, _ in steps] == sorted({d for d, _ in steps}) and len(steps) <= 11
    assert {t for _, t in steps} == {total}
    summary = done.stdout.strip().splitlines()[-1]
    found = re.fullmatch(
        r"(\d+) tiles \((\d+) empty left out\), ([\d,]+) bytes in ([\d.]+) s → (.+)", summary
    )
    assert found, summary
    written, empty, size, seconds, path = found.groups()
    assert int(written) + int(empty) == total and int(written) > 0
    assert int(size.replace(",", "")) == out.stat().st_size
    assert 0 <= float(seconds) < 60 and Path(path) == out.resolve()
    assert "\x1b[" not in done.stdout + done.stderr  # no bar drawing codes in a log
