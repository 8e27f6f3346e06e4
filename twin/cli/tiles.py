"""``twin tiles``: offline vector-tile archives."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Vector tiles: offline PMTiles archives.", no_args_is_help=True)


def _bbox(text: str) -> tuple[float, float, float, float]:
    from twin.errors import ConfigError

    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise ConfigError(f"--bbox {text!r} must be west,south,east,north in degrees") from exc
    return west, south, east, north


class _LogProgress:
    """Progress as plain lines on stderr, every tenth of the tiles (when not on a terminal)."""

    def __init__(self) -> None:
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        tenth = done * 10 // total if total else 10
        if tenth > self.shown:
            self.shown = tenth
            typer.echo(f"tiles {done}/{total}", err=True)


@app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="The .pmtiles file to write.")],
    bbox: Annotated[str, typer.Option(help="west,south,east,north (WGS84 degrees).")],
    layers: Annotated[str, typer.Option(help="Comma-separated layers.")] = "districts,streets,"
    "communities,grids,buildings,roads",
    minzoom: Annotated[int, typer.Option(min=0, max=22)] = 10,
    maxzoom: Annotated[int, typer.Option(min=0, max=22)] = 16,
    threshold: Annotated[
        int, typer.Option(help="Privacy threshold for counts (0: exact).", min=0)
    ] = 5,
) -> None:
    """Write a PMTiles v3 archive of the twin for offline use, with a progress bar.

    On a terminal the bar moves with every tile; otherwise (a log, a pipe) a line on stderr
    tells each tenth done. The last line sums up: tiles, bytes and seconds.
    """
    import time
    from contextlib import nullcontext

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from tiles.export import Progress as ProgressFn
    from tiles.export import export_pmtiles
    from twin.cli.common import database

    started = time.perf_counter()
    console = Console(stderr=True)
    bar = Progress(
        "tiles", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True,
        console=console,
    )  # fmt: skip
    task = bar.add_task("tiles", total=None)

    def on_bar(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    progress: ProgressFn = on_bar if console.is_terminal else _LogProgress()
    with database() as conn, bar if console.is_terminal else nullcontext():
        report = export_pmtiles(
            conn, out, layers, _bbox(bbox), minzoom, maxzoom, threshold, progress=progress
        )
    typer.echo(
        f"{report.tiles_written} tiles ({report.tiles_empty} empty left out), "
        f"{report.bytes_written:,} bytes in {time.perf_counter() - started:.1f} s → {report.path}"
    )
