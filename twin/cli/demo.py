"""``twin demo``: bring the demo district into the database, doing whatever exists so far."""

from __future__ import annotations

from typing import Annotated

import typer

#: The demo: Bao'an district at ``medium`` scale (one tenth of its real density).
DEMO_DISTRICT = "440306"
DEMO_SCALE = "medium"
DEMO_SEED = 1


def demo(
    scale: Annotated[
        str, typer.Option(help="Generator scale: small, medium or city.")
    ] = DEMO_SCALE,
    district: Annotated[str, typer.Option(help="District code to generate.")] = DEMO_DISTRICT,
    seed: Annotated[int, typer.Option(help="Seed of the generator.")] = DEMO_SEED,
) -> None:
    """Load the reference data and generate the demo district (Bao'an, medium) when missing."""
    from twin.cli.common import database

    steps: list[str] = []
    from twin.load.admin import load_admin

    with database(actor="demo") as conn:
        report = load_admin(conn)
        conn.commit()
    steps.append("reference data: " + report.lines()[0])
    steps.append(
        f"demo district {district} ({scale}, seed {seed}): generator not available in this version"
    )
    for step in steps:
        typer.echo(f"demo: {step}")
