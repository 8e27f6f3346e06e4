"""``twin demo``: bring the demo district into the database (Bao'an at ``medium`` scale)."""

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
    """Load the reference data, then generate the demo district unless it is there already."""
    from blocks.placement.generated import place_generated
    from twin.cli.common import database, settings
    from twin.db.connect import resolve_conninfo
    from twin.load.admin import load_admin
    from twin.synth.run import generate

    with database(actor="twin demo") as conn:
        report = load_admin(conn)
        conn.commit()
        typer.echo("demo: reference data: " + report.lines()[0])
        typer.echo(
            f"demo: generating district {district} ({scale}, seed {seed}); "
            "this takes about a minute the first time"
        )
        run = generate(
            conn, district, scale, seed, workers=2, conninfo=resolve_conninfo(settings())
        )
        done = "already there" if not run.rows else f"{sum(run.rows.values()):,} rows written"
        typer.echo(f"demo: district {district}: {done}")
    # A connection of its own: the generator's may skip triggers for its bulk loads.
    with database(actor="twin demo") as conn:
        placed = place_generated(conn, "twin demo")
        conn.commit()
    typer.echo(f"demo: {placed:,} generated records placed in their blocks by their true address")
