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


import_app = typer.Typer(
    help="Import real data (admin units, roads, buildings) from files.", no_args_is_help=True
)

FileArg = Annotated[
    Path,
    typer.Argument(
        help="GeoJSON, GeoPackage, Shapefile (.shp/.zip), "
        "GeoParquet or CSV (WKT or lon/lat columns)."
    ),
]
CrsOpt = Annotated[str, typer.Option("--crs", help="The file's CRS: EPSG code, gcj02 or bd09.")]
LayerOpt = Annotated[str | None, typer.Option(help="Layer of a GeoPackage.")]
MappingOpt = Annotated[
    str | None, typer.Option(help="Column names for our fields, e.g. code=BM,name=MC,floors=CS.")
]
ReportOpt = Annotated[
    Path | None, typer.Option("--report", help="Write rejected and repaired rows to this CSV file.")
]


def _parse_mapping(text: str | None) -> dict[str, str]:
    from twin.load.errors import DataImportError

    out: dict[str, str] = {}
    for pair in filter(None, (text or "").split(",")):
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise DataImportError(f"--mapping entry {pair!r} is not field=column")
        out[ours.strip()] = theirs.strip()
    return out


def _run_import(
    kind: str,
    path: Path,
    crs: str,
    layer: str | None,
    mapping: str | None,
    report_file: Path | None,
) -> None:
    import csv

    from rich.console import Console
    from rich.table import Table

    from twin.cli.common import database
    from twin.crs import parse_crs
    from twin.load.importer import import_file

    declared = parse_crs(crs)
    with database(actor=f"twin import {kind}") as conn:
        report = import_file(
            conn, kind, path, declared, layer=layer, mapping=_parse_mapping(mapping)
        )
        conn.commit()
    table = Table(title=f"import {kind}: {path.name} ({declared})")
    for col in ("row", "field", "outcome"):
        table.add_column(col)
    for number, fieldname, reason in report.rejected:
        table.add_row(str(number), fieldname, f"rejected: {reason}")
    for number, reason in report.repaired:
        table.add_row(str(number), "geometry", f"repaired: {reason}")
    if report.rejected or report.repaired:
        Console().print(table)
    typer.echo(
        f"{kind}: {report.accepted} accepted ({len(report.repaired)} repaired), "
        f"{len(report.rejected)} rejected"
    )
    if report_file is not None:
        with report_file.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(("row", "field", "outcome", "reason"))
            out.writerows((n, f, "rejected", r) for n, f, r in report.rejected)
            out.writerows((n, "geometry", "repaired", r) for n, r in report.repaired)


@import_app.command("admin")
def import_admin(
    path: FileArg,
    crs: CrsOpt,
    layer: LayerOpt = None,
    mapping: MappingOpt = None,
    report: ReportOpt = None,
) -> None:
    """Import districts, streets, communities or grids (fields: code, name)."""
    _run_import("admin", path, crs, layer, mapping, report)


@import_app.command("roads")
def import_roads(
    path: FileArg,
    crs: CrsOpt,
    layer: LayerOpt = None,
    mapping: MappingOpt = None,
    report: ReportOpt = None,
) -> None:
    """Import roads (fields: name, class); each goes to the district holding most of it."""
    _run_import("roads", path, crs, layer, mapping, report)


@import_app.command("buildings")
def import_buildings(
    path: FileArg,
    crs: CrsOpt,
    layer: LayerOpt = None,
    mapping: MappingOpt = None,
    report: ReportOpt = None,
) -> None:
    """Import buildings (fields: code, name, floors, height_m, use); codes given when missing."""
    _run_import("buildings", path, crs, layer, mapping, report)
