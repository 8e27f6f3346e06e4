"""``twin geocode``: one address to JSON, or a whole table file to a geocoded copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import psycopg

    from geocode.index import AddressIndex


def geocode(
    target: Annotated[str, typer.Argument(help="An address, or a CSV/XLSX/GPKG/Parquet file.")],
    column: Annotated[
        str | None, typer.Option(help="The address column of the file (required for files).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write the file's geocoded copy.", dir_okay=False
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Matching processes (with --dask local: workers).")
    ] = 2,
    dask: Annotated[
        str | None,
        typer.Option(
            help="Geocode a CSV or Parquet file on a Dask cluster: the scheduler's address, or "
            "'local' for a local cluster of --workers processes."
        ),
    ] = None,
) -> None:
    """Geocode an address (prints one JSON result) or a table file.

    A file's copy has every row and column plus code, level, standard_address, lon, lat,
    confidence, band and reason; a progress bar runs meanwhile and a summary ends it.
    """
    from geocode.batch import TABLE_SUFFIXES, BatchInputError
    from geocode.index import load_index
    from twin.cli.common import database

    path = Path(target)
    is_file = path.suffix.lower() in TABLE_SUFFIXES and (path.exists() or column or output)
    if is_file and (column is None or output is None):
        raise BatchInputError("geocoding a file needs --column NAME and -o OUT")
    if dask is not None:
        if not is_file:
            raise BatchInputError("--dask geocodes files: give a CSV or Parquet file")
        assert column is not None and output is not None
        _file_on_dask(path, column, output, dask, workers)
        return
    with database(actor="twin geocode") as conn:
        index = load_index(conn)
        if not is_file:
            _one(conn, index, target)
            return
        assert column is not None and output is not None
        _file(conn, index, path, column, output, workers)


def _one(conn: psycopg.Connection[Any], index: AddressIndex, text: str) -> None:
    from geocode.match import match
    from geocode.service import describe, result_record

    result = match(index, text)
    record = result_record(result, describe(conn, [result.code]))
    typer.echo(json.dumps(record, ensure_ascii=False, indent=2))


def _file(
    conn: psycopg.Connection[Any],
    index: AddressIndex,
    path: Path,
    column: str,
    output: Path,
    workers: int,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from geocode.batch import geocode_table, read_table, write_table

    table = read_table(path)
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task("geocoding", total=len(table.rows))
        header, rows, summary = geocode_table(
            conn,
            index,
            table,
            column,
            workers=workers,
            progress=lambda n: bar.advance(task, n),
        )
    write_table(output, header, rows)
    typer.echo(f"{output}: {summary.line()}")


def _file_on_dask(path: Path, column: str, output: Path, scheduler: str, workers: int) -> None:
    from geocode.batch import write_table
    from geocode.distributed import check_parts_format, dask_client, geocode_file
    from twin.cli.common import settings
    from twin.db.connect import resolve_conninfo

    check_parts_format(path)
    conninfo = resolve_conninfo(settings())
    with dask_client(scheduler, workers) as client:
        header, rows, summary = geocode_file(client, conninfo, path.resolve(), column)
    write_table(output, header, rows)
    typer.echo(f"{output}: {summary.line()}")
