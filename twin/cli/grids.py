"""``twin grids delineate``: draw comprehensive grids inside communities under limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Comprehensive grids (综合网格).", no_args_is_help=True)


@app.command()
def delineate(
    community: Annotated[str | None, typer.Option(help="One community's 12-digit code.")] = None,
    all_communities: Annotated[bool, typer.Option("--all", help="Every community.")] = False,
    max_units: Annotated[int, typer.Option(min=1, help="Housing units per grid.")] = 500,
    max_residents: Annotated[int, typer.Option(min=1, help="Residents per grid.")] = 1_000,
    report: Annotated[
        Path | None, typer.Option("--report", "-o", dir_okay=False, help="JSON report.")
    ] = None,
) -> None:
    """Group each community's buildings into compact grids under the limits; store the plan.

    Grids never cut a building; a grid whose buildings did not change keeps its code. The
    plan goes to ``twin.grid_plan``; one line per community is printed.
    """
    from blocks.errors import PlacementInputError
    from blocks.grids.delineate import Limits
    from blocks.grids.service import communities_with_buildings, delineate_community
    from twin.cli.common import database

    if (community is None) == (not all_communities):
        raise PlacementInputError("name one --community CODE, or --all")
    limits = Limits(max_units, max_residents)
    reports = []
    with database(actor="twin grids delineate") as conn:
        targets = [community] if community else communities_with_buildings(conn)
        for code in targets:
            done = delineate_community(conn, code, limits, "twin grids delineate")
            conn.commit()
            if done is None:
                typer.echo(f"{code}: no buildings")
                continue
            reports.append(done.as_dict())
            typer.echo(done.line())
    if report is not None:
        report.write_text(json.dumps(reports, ensure_ascii=False, indent=2), encoding="utf-8")
