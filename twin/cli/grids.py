"""``twin grids delineate|apply``: draw comprehensive grids inside communities under limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Comprehensive grids (综合网格).", no_args_is_help=True)

_Community = Annotated[str | None, typer.Option(help="One community's 12-digit code.")]
_All = Annotated[bool, typer.Option("--all", help="Every community.")]
_Report = Annotated[
    Path | None, typer.Option("--report", "-o", dir_okay=False, help="JSON report.")
]


def _targets(conn: Any, community: str | None, all_communities: bool) -> list[str]:
    from blocks.errors import PlacementInputError
    from blocks.grids.service import communities_with_buildings

    if (community is None) == (not all_communities):
        raise PlacementInputError("name one --community CODE, or --all")
    return [community] if community else communities_with_buildings(conn)


@app.command()
def delineate(
    community: _Community = None,
    all_communities: _All = False,
    max_units: Annotated[int, typer.Option(min=1, help="Housing units per grid.")] = 500,
    max_residents: Annotated[int, typer.Option(min=1, help="Residents per grid.")] = 1_000,
    apply: Annotated[
        bool, typer.Option("--apply", help="Make the plan the grids in force, in the same step.")
    ] = False,
    report: _Report = None,
) -> None:
    """Group each community's buildings into compact grids along roads, under the limits.

    Grids never cut a building; a grid whose buildings did not change keeps its code. The
    plan goes to ``twin.grid_plan`` (and, with ``--apply``, into force in the same
    transaction: see ``twin grids apply``); one line per community is printed.
    """
    from blocks.grids.apply import apply_plan
    from blocks.grids.delineate import Limits
    from blocks.grids.service import delineate_community
    from twin.cli.common import database

    limits = Limits(max_units, max_residents)
    reports: list[dict[str, Any]] = []
    actor = "twin grids delineate"
    with database(actor=actor) as conn:
        for code in _targets(conn, community, all_communities):
            done = delineate_community(conn, code, limits, actor)
            if done is None:
                conn.commit()
                typer.echo(f"{code}: no buildings")
                continue
            reports.append(done.as_dict())
            typer.echo(done.line())
            if apply:
                applied = apply_plan(conn, code, actor)
                reports[-1]["applied"] = applied.as_dict()
                typer.echo(applied.line())
            conn.commit()
    if report is not None:
        report.write_text(json.dumps(reports, ensure_ascii=False, indent=2), encoding="utf-8")


@app.command("apply")
def apply_command(community: _Community = None, all_communities: _All = False) -> None:
    """Make each community's stored plan the grids in force, one transaction per community.

    Buildings keep their codes and move to their planned grid; addresses, placements and the
    counts follow; dropped grids are retired (their codes never come back). Audited.
    """
    from blocks.grids.apply import apply_plan
    from blocks.grids.service import communities_with_plans
    from twin.cli.common import database

    with database(actor="twin grids apply") as conn:
        _targets(conn, community, all_communities)  # one of the two
        for code in [community] if community else communities_with_plans(conn):
            typer.echo(apply_plan(conn, code, "twin grids apply").line())
            conn.commit()
