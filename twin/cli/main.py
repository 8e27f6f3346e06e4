"""Entry point of the ``twin`` command.

Every subcommand turns a :class:`~twin.errors.TwinError` into one sentence on standard
error and exit code 1, never a traceback (``TWIN_DEBUG=1`` shows the traceback too).
"""

from __future__ import annotations

import os
import sys

import typer

from twin import __version__
from twin.cli import address as address_cli
from twin.cli import db as db_cli
from twin.cli import demo as demo_cli
from twin.cli import entity as entity_cli
from twin.cli import generate as generate_cli
from twin.cli import geocode as geocode_cli
from twin.cli import grids as grids_cli
from twin.cli import keys as keys_cli
from twin.cli import load as load_cli
from twin.cli import parse as parse_cli
from twin.cli import place as place_cli
from twin.cli import serve as serve_cli
from twin.cli import threed as threed_cli
from twin.cli import tiles as tiles_cli
from twin.errors import TwinError

app = typer.Typer(
    name="twin",
    help="citytwin: a digital twin of a Chinese city district (addresses, blocks, tiles, 3D).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cli.app, name="db")
app.add_typer(load_cli.app, name="load")
app.add_typer(address_cli.app, name="address")
app.add_typer(entity_cli.app, name="entity")
app.add_typer(tiles_cli.app, name="tiles")
app.add_typer(keys_cli.app, name="keys")
app.add_typer(grids_cli.app, name="grids")
app.add_typer(threed_cli.app, name="3d")
app.add_typer(load_cli.import_app, name="import")
app.command("serve")(serve_cli.serve)
app.command("demo")(demo_cli.demo)
app.command("generate")(generate_cli.generate)
app.command("parse")(parse_cli.parse)
app.command("geocode")(geocode_cli.geocode)
app.command("place")(place_cli.place)
app.command("refresh-placements")(place_cli.refresh_placements)


@app.command()
def version() -> None:
    """Print citytwin's version."""
    typer.echo(__version__)


def main() -> None:
    """Run the command line, turning citytwin's errors into one clear sentence."""
    import psycopg

    try:
        app()
    except TwinError as exc:
        _fail(str(exc))
    except psycopg.Error as exc:
        # A refusal the command did not foresee (a constraint, a lost connection): still one
        # sentence, with the database's own first line, never a traceback.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _fail(f"the database refused the operation: {first}")


def _fail(message: str) -> None:
    if os.environ.get("TWIN_DEBUG"):
        raise
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
