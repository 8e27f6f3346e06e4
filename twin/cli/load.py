"""``twin load``: the project's reference data into the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Load the project's reference data.", no_args_is_help=True)


@app.command("admin")
def admin(
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder of the reference files (default: the project's data/admin)."),
    ] = None,
) -> None:
    """Load Shenzhen's 9 districts (with outlines), 79 streets and 788 communities."""
    from twin.cli.common import database
    from twin.load.admin import load_admin

    with database(actor="twin load admin") as conn:
        report = load_admin(conn, data_dir)
        conn.commit()
    for line in report.lines():
        typer.echo(line)
