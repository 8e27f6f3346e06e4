"""``twin load`` (the project's reference data) and ``twin import`` (real data from files)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from twin.load.report import ImportReport

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


import_app = typer.Typer(
    help="Import real data (admin units, roads, buildings) from files.", no_args_is_help=True
)

FileArg = Annotated[
    Path,
    typer.Argument(
        help="GeoJSON, GeoPackage, Shapefile (.shp/.zip), "
        "GeoParquet or CSV (WKT or lon/lat columns; UTF-8 or GBK)."
    ),
]
CrsOpt = Annotated[
    str, typer.Option("--crs", help="The file's CRS: an EPSG code (EPSG:4547), gcj02 or bd09.")
]
LayerOpt = Annotated[str | None, typer.Option(help="The layer of a GeoPackage with several.")]
MappingOpt = Annotated[
    str | None,
    typer.Option(help="Our field=your column, comma-separated, e.g. code=BM,name=MC,floors=CS."),
]
ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="Write every rejected, repaired and noted row to this CSV."),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Check and report, then roll back: write nothing.")
]
#: Report lines shown on the terminal; ``--report`` has them all.
SHOWN_LINES = 50


@dataclass(frozen=True)
class ImportOptions:
    """The options every ``twin import`` command shares."""

    layer: str | None
    mapping: str | None
    report_file: Path | None
    dry_run: bool


def parse_mapping(text: str | None) -> dict[str, str]:
    """Parse ``field=column,field=column`` into a dict.

    Examples
    --------
    >>> parse_mapping("code=BM, name=MC")
    {'code': 'BM', 'name': 'MC'}
    """
    from twin.load.errors import DataImportError

    out: dict[str, str] = {}
    for pair in filter(None, (text or "").split(",")):
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise DataImportError(f"--mapping entry {pair!r} is not field=column")
        out[ours.strip()] = theirs.strip()
    return out


# The name other commands (twin address import) imported before it was public.
_parse_mapping = parse_mapping


def _print_report(report: ImportReport, title: str, report_file: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    summary = Table(title=title)
    for col in ("rows", "accepted", "updated", "repaired", "rejected"):
        summary.add_column(col, justify="right")
    counts = (report.rows, report.accepted, report.updated, len(report.repaired))
    summary.add_row(*map(str, counts), str(len(report.rejected)))
    console.print(summary)
    lines = report.lines()
    if lines:
        table = Table("row", "field", "outcome", "reason")
        for number, fieldname, outcome, reason in lines[:SHOWN_LINES]:
            table.add_row(str(number) if number else "file", fieldname, outcome, reason)
        console.print(table)
    if report_file is not None:
        report.write_csv(report_file)
        typer.echo(f"report: {report_file}")
    elif len(lines) > SHOWN_LINES:
        typer.echo(f"{len(lines) - SHOWN_LINES} more lines: write them all with --report FILE.csv")


def _run_import(kind: str, path: Path, crs: str, options: ImportOptions) -> None:
    from twin.cli.common import database
    from twin.crs import parse_crs
    from twin.load.importer import import_file

    declared = parse_crs(crs)
    mapping = parse_mapping(options.mapping)
    with database(actor=f"twin import {kind}") as conn:
        report = import_file(conn, kind, path, declared, layer=options.layer, mapping=mapping)
        if options.dry_run:
            conn.rollback()
        else:
            conn.commit()
    _print_report(report, f"import {kind}: {path.name} ({declared})", options.report_file)
    typer.echo(report.summary() + (" (dry run: nothing written)" if options.dry_run else ""))


@import_app.command("admin")
def import_admin(
    path: FileArg,
    crs: CrsOpt,
    layer: LayerOpt = None,
    mapping: MappingOpt = None,
    report: ReportOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Import district, street, community or grid outlines (fields: code, name).

    The level follows from the code's length; the parent must be loaded or in the file.
    """
    _run_import("admin", path, crs, ImportOptions(layer, mapping, report, dry_run))


@import_app.command("roads")
def import_roads(
    path: FileArg,
    crs: CrsOpt,
    layer: LayerOpt = None,
    mapping: MappingOpt = None,
    report: ReportOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Import roads (fields: name, class).

    Each goes to the district holding most of it; segments of one name are merged.
    """
    _run_import("roads", path, crs, ImportOptions(layer, mapping, report, dry_run))


@import_app.command("buildings")
def import_buildings(
    path: FileArg,
    crs: CrsOpt,
    layer: LayerOpt = None,
    mapping: MappingOpt = None,
    report: ReportOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Import buildings (fields: code, name, floors, height_m, basement_floors, use, built_year).

    A building goes to the grid holding most of it; one without a code gets the next free one.
    """
    _run_import("buildings", path, crs, ImportOptions(layer, mapping, report, dry_run))
