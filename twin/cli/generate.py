"""``twin generate``: a believable, deterministic demo district inside the real outline."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Annotated, Any

import typer


def _read_streets(path: Path) -> dict[str, object]:
    """Street outlines from a GeoJSON file with a 9-digit ``code`` property (metric)."""
    import json

    import shapely.geometry

    from twin.synth.district import to_metric
    from twin.synth.tessellate import as_multipolygon

    doc = json.loads(path.read_text(encoding="utf-8"))
    return {
        str(f["properties"]["code"]): as_multipolygon(
            to_metric(shapely.geometry.shape(f["geometry"]))
        )
        for f in doc["features"]
    }


def generate(
    district: Annotated[str, typer.Option(help="6-digit district code, e.g. 440306, or all.")],
    scale: Annotated[
        str,
        typer.Option(
            help="small (one street), medium (district at 1/10 density) or city (full density)."
        ),
    ] = "small",
    seed: Annotated[int, typer.Option(help="The same seed gives the same data.")] = 1,
    street: Annotated[
        str | None,
        typer.Option(help="9-digit street code (small: default the district's first street)."),
    ] = None,
    streets: Annotated[
        Path | None,
        typer.Option(help="GeoJSON of street outlines to use.", exists=True, dir_okay=False),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(help="Write the truth (messy address → codes) to this .csv or .jsonl file."),
    ] = None,
    replace: Annotated[
        bool, typer.Option(help="Delete the district's generated data first.")
    ] = False,
    workers: Annotated[
        int, typer.Option(help="Processes writing communities at once.", min=1, max=16)
    ] = 2,
) -> None:
    """Generate a demo district: outlines, roads, compounds, buildings, rooms, people, events."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from twin.cli.common import database, settings
    from twin.db.connect import resolve_conninfo
    from twin.synth.run import deferred_indexes, export_truth
    from twin.synth.run import generate as run

    outlines = _read_streets(streets) if streets else None
    started = time.monotonic()
    keys: list[str] = []
    with (
        database(actor="twin generate") as conn,
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
        ) as bar,
    ):
        codes = [district]
        if district == "all":
            codes = [
                r[0]
                for r in conn.execute(
                    "SELECT code FROM twin.admin_unit WHERE level = 'district' ORDER BY code"
                )
            ]
        many = len(codes) > 1 and scale != "small"
        with deferred_indexes(conn) if many else contextlib.nullcontext():
            for code in codes:
                task = bar.add_task(code, total=None)

                def step(name: str, done: int, total: int, task: Any = task) -> None:
                    bar.update(task, completed=done, total=total, description=name)

                report = run(
                    conn,
                    code,
                    scale,
                    seed,
                    street=street,
                    streets_file=outlines,  # type: ignore[arg-type]
                    replace=replace,
                    progress=step,
                    workers=workers,
                    conninfo=resolve_conninfo(settings()),
                    defer_indexes=False if many else None,
                )
                keys.append(report.run_key)
                _summary(report, time.monotonic() - started)
        if truth is not None:
            n = export_truth(conn, keys, str(truth))
            typer.echo(f"truth: {n} rows → {truth}")


def _summary(report: Any, seconds: float) -> None:
    total = sum(report.rows.values())
    if report.communities_done == 0 and total == 0:
        typer.echo(
            f"run {report.run_key} is complete already (nothing to do; --replace regenerates it)"
        )
        return
    typer.echo(
        f"run {report.run_key}: {report.communities_done} communities written, "
        f"{report.communities_skipped} already done; {total} rows in {seconds:.1f} s "
        f"({total / max(seconds, 1e-9):,.0f} rows/s)"
    )
    for table, n in sorted(report.rows.items()):
        typer.echo(f"  {table}: {n}")
