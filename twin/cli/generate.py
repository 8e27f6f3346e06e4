"""``twin generate``: a believable, deterministic demo district inside the real outline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import psycopg

    from twin.synth.run import RunReport


def generate(
    district: Annotated[
        str | None,
        typer.Option(help="6-digit district code, e.g. 440306, or all (default at city scale)."),
    ] = None,
    scale: Annotated[
        str,
        typer.Option(
            help="small (one street, 2 % density), medium (one district, 10 %) or city "
            "(all of Shenzhen, full density)."
        ),
    ] = "small",
    seed: Annotated[int, typer.Option(help="The same seed gives the same data.")] = 1,
    street: Annotated[
        str | None,
        typer.Option(help="9-digit street code (small: default the district's first street)."),
    ] = None,
    streets: Annotated[
        Path | None,
        typer.Option(
            help="GeoJSON of street outlines (property code) to use.", exists=True, dir_okay=False
        ),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(help="Write the truth (messy address → codes) to this .csv or .jsonl file."),
    ] = None,
    replace: Annotated[
        bool, typer.Option(help="Delete the district's generated data first and regenerate.")
    ] = False,
    workers: Annotated[
        int, typer.Option(help="Processes writing communities at once.", min=1, max=16)
    ] = 2,
) -> None:
    """Generate a demo district: outlines, roads, compounds, buildings, rooms, people, events.

    Everything generated is marked is_generated and source citytwin-synth. An interrupted run
    continues where it stopped when started again with the same arguments.
    """
    from twin.synth.plan import GenerateError, read_streets_file

    if scale not in ("small", "medium", "city"):
        raise GenerateError(f"unknown scale {scale!r}: use small, medium or city")
    if district is None and scale != "city":
        raise GenerateError("--district is required below city scale (e.g. --district 440306)")
    if streets is not None and district in (None, "all"):
        raise GenerateError("--streets gives the streets of one district: name it with --district")
    outlines = read_streets_file(streets) if streets else None
    options = {"street": street, "streets_file": outlines, "replace": replace, "workers": workers}
    _run(district or "all", scale, seed, options, truth)


def _run(district: str, scale: str, seed: int, options: dict[str, Any], truth: Path | None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from twin.cli.common import database, settings
    from twin.db.connect import resolve_conninfo
    from twin.synth.run import generate as run
    from twin.synth.truth import export_truth

    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn())
    keys: list[str] = []
    with (
        database(actor="twin generate") as conn,
        Progress(*columns, TimeRemainingColumn(), transient=True) as bar,
    ):
        codes = _districts(conn, district)
        for code in codes:
            started = time.monotonic()
            task = bar.add_task(f"{code}: layout", total=None)

            def step(name: str, done: int, total: int, task: Any = task, code: str = code) -> None:
                bar.update(task, completed=done, total=total, description=f"{code}: {name}")

            # Several districts in a row build the indexes once, after the last.
            report = run(
                conn, code, scale, seed, progress=step, conninfo=resolve_conninfo(settings()),
                indexes=code == codes[-1], **options,
            )  # fmt: skip
            bar.remove_task(task)
            keys.append(report.run_key)
            _summary(report, time.monotonic() - started)
        if truth is not None:
            n = export_truth(conn, keys, truth)
            typer.echo(f"truth: {n:,} rows → {truth}")


def _districts(conn: psycopg.Connection[Any], district: str) -> list[str]:
    if district != "all":
        return [district]
    rows = conn.execute(
        "SELECT code FROM twin.admin_unit WHERE level = 'district' ORDER BY code"
    ).fetchall()
    return [r[0] for r in rows]


def _summary(report: RunReport, seconds: float) -> None:
    if report.already_done:
        typer.echo(
            f"run {report.run_key} is complete already: nothing to do (--replace regenerates it)"
        )
        return
    total = sum(report.rows.values())
    typer.echo(
        f"run {report.run_key}: {report.communities_done} communities written, "
        f"{report.communities_skipped} already done; {total:,} rows in {seconds:.1f} s "
        f"({total / max(seconds, 1e-9):,.0f} rows/s)"
    )
    for table, n in sorted(report.rows.items()):
        typer.echo(f"  {table}: {n:,}")
    if report.indexes_built:
        typer.echo(f"  indexes rebuilt: {len(report.indexes_built)}")
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    typer.echo(f"  time: {timing}")
