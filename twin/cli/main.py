"""Entry point of the ``twin`` command.

Every subcommand turns a :class:`~twin.errors.TwinError` into one sentence on standard
error and exit code 1, never a traceback (``TWIN_DEBUG=1`` shows the traceback too).
"""

from __future__ import annotations

import os
import sys

import typer

from twin import __version__
from twin.cli import db as db_cli
from twin.cli import serve as serve_cli
from twin.errors import TwinError

app = typer.Typer(
    name="twin",
    help="citytwin: a digital twin of a Chinese city district (addresses, blocks, tiles, 3D).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cli.app, name="db")
app.command("serve")(serve_cli.serve)


@app.command()
def version() -> None:
    """Print citytwin's version."""
    typer.echo(__version__)


def main() -> None:
    """Run the command line, turning citytwin's errors into one clear sentence."""
    try:
        app()
    except TwinError as exc:
        if os.environ.get("TWIN_DEBUG"):
            raise
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
