"""``twin address``: the unified address library (one code, many addresses)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="The unified address library: show, import, export, alias, retire.", no_args_is_help=True
)
alias_app = typer.Typer(help="Aliases of standard addresses.", no_args_is_help=True)
app.add_typer(alias_app, name="alias")

AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Read the library as of this date or time (ISO 8601, e.g. 2026-01-31)."
    ),
]


def _as_of(text: str | None) -> dt.datetime | None:
    from twin.errors import ConfigError

    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"--as-of {text!r} is not an ISO 8601 date or time") from exc
    if len(text) <= 10:  # a date alone: the end of that day
        when += dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@app.command()
def show(code: str, as_of: AsOf = None) -> None:
    """Print one address (its version at --as-of), with aliases and successors, as JSON."""
    from geocode.library.repository import get_address
    from twin.cli.common import database

    with database() as conn:
        address = get_address(conn, code, _as_of(as_of))
    typer.echo(json.dumps(address.as_dict(), ensure_ascii=False, indent=2))


@alias_app.command("add")
def alias_add(
    code: str,
    text: str,
    kind: Annotated[
        str, typer.Option(help="old_name, agency, nickname, abbreviation, variant or correction.")
    ] = "variant",
    actor: Annotated[str, typer.Option(help="Who adds it.")] = "cli",
) -> None:
    """Give an address one more name; it will resolve to the same code."""
    from geocode.library.writes import add_alias
    from twin.cli.common import database

    with database(actor=actor) as conn:
        added = add_alias(conn, code, text, actor=actor, kind=kind)
        conn.commit()
    typer.echo(f"{code}: alias {'added' if added else 'was there already'}: {text}")


@app.command()
def retire(
    code: str,
    successor: Annotated[list[str], typer.Option(help="Successor code (repeat for a split).")],
    reason: Annotated[str | None, typer.Option(help="Why (merged, split, demolished...).")] = None,
    actor: Annotated[str, typer.Option(help="Who retires it.")] = "cli",
) -> None:
    """Retire an address; its code keeps resolving, to its successors."""
    from geocode.library.writes import retire_address
    from twin.cli.common import database

    with database(actor=actor) as conn:
        retired = retire_address(conn, code, successor, actor=actor, reason=reason)
        conn.commit()
    typer.echo(f"{code} retired → {', '.join(retired.successor_codes)}")


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="CSV, GeoJSON or GeoPackage of addresses.")],
    crs: Annotated[str, typer.Option(help="CRS of lon/lat: EPSG code, gcj02, bd09.")] = "4326",
    mapping: Annotated[str | None, typer.Option(help="field=column pairs, e.g. text=DZ.")] = None,
    actor: Annotated[str, typer.Option(help="Who imports.")] = "cli",
) -> None:
    """Import addresses; the library assigns every code and reports each row."""
    from geocode.library.files import import_addresses
    from twin.cli.common import database
    from twin.cli.load import _parse_mapping
    from twin.crs import parse_crs

    with database(actor=actor) as conn:
        report = import_addresses(
            conn, path, actor=actor, crs=parse_crs(crs), mapping=_parse_mapping(mapping)
        )
        conn.commit()
    for number, reason in report.rejected:
        typer.echo(f"row {number}: rejected: {reason}")
    typer.echo(f"{len(report.created)} addresses created, {len(report.rejected)} rejected")


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="Output .csv or .geojson.")],
    level: Annotated[str | None, typer.Option(help="Only this level.")] = None,
    as_of: AsOf = None,
) -> None:
    """Export the library (code, level, text, lon, lat, status, aliases), as of a date."""
    from geocode.library.files import export_addresses
    from twin.cli.common import database

    with database() as conn:
        n = export_addresses(conn, path, level=level, as_of=_as_of(as_of))
    typer.echo(f"{n} addresses → {path}")
