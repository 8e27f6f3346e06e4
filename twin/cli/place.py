"""``twin place FILE`` (people, companies or events into blocks) and ``twin refresh-placements``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from collections.abc import Callable

    from blocks.placement.service import PlaceSummary
    from geocode.batch import Table


_CRS_HELP = "CRS of lon/lat: EPSG:4326, EPSG:4547, gcj02, bd09..."
_REPORT_HELP = "Write one line per row (.csv, .xlsx, .parquet)."
_DASK_HELP = (
    "Place on a Dask cluster: the scheduler's address (tcp://host:8786), or 'local' for a "
    "local cluster of --workers processes. CSV or Parquet files only."
)


def place(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, GeoPackage, GeoJSON or Parquet.")],
    kind: Annotated[str, typer.Option(help="person, company or event.")],
    address_column: Annotated[str | None, typer.Option(help="Address column.")] = None,
    code_column: Annotated[
        str | None, typer.Option(help="Column of block or address codes.")
    ] = None,
    id_column: Annotated[str | None, typer.Option(help="Record id column.")] = None,
    lon: Annotated[str | None, typer.Option("--lon", help="Longitude (x) column.")] = None,
    lat: Annotated[str | None, typer.Option("--lat", help="Latitude (y) column.")] = None,
    crs: Annotated[str, typer.Option(help=_CRS_HELP)] = "EPSG:4326",
    source: Annotated[
        str | None, typer.Option(help="Source of the ids (default: file name).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", "-o", dir_okay=False, help=_REPORT_HELP)
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Geocoding processes (with --dask local: workers).")
    ] = 2,
    dask: Annotated[str | None, typer.Option(help=_DASK_HELP)] = None,
) -> None:
    """Place each record by its code, else its address, else its coordinates.

    Re-running with the same file (same source and ids) updates what it placed. A progress
    bar runs meanwhile; a summary ends it, and ``--report`` keeps every row's answer.
    With ``--dask`` the file (CSV or Parquet) is placed on a Dask cluster, whose workers
    read it in parts (see docs/blocks.md).
    """
    from blocks.placement.model import REPORT_COLUMNS
    from geocode.batch import read_table, write_table

    columns = {"address": address_column, "code": code_column, "id": id_column,
               "lon": lon, "lat": lat}  # fmt: skip
    lines: list[list[Any]] = []

    def chunk_done(results: list[Any]) -> None:
        if report is not None:
            lines.extend([r.as_dict()[c] for c in REPORT_COLUMNS] for r in results)

    actor = f"twin place {file.name}"
    if dask is not None:
        summary = _place_on_dask(file, dask, workers, kind, source or file.stem, actor,
                                 columns, crs, lines if report is not None else None)  # fmt: skip
    else:
        summary = _place_here(read_table(file), kind, source or file.stem, actor, columns, crs,
                              workers, chunk_done)  # fmt: skip
    if report is not None:
        write_table(report, REPORT_COLUMNS, lines)
    typer.echo(f"{file}: {summary.line()}")


def _place_on_dask(
    file: Path,
    scheduler: str,
    workers: int,
    kind: str,
    source: str,
    actor: str,
    columns: dict[str, str | None],
    crs: str,
    lines: list[list[Any]] | None,
) -> PlaceSummary:
    """Place a file on a Dask cluster (``local``: one of ``workers`` processes here)."""
    from blocks.placement.distributed import place_file
    from geocode.distributed import check_parts_format, dask_client
    from twin.cli.common import settings
    from twin.db.connect import resolve_conninfo

    check_parts_format(file)
    conninfo = resolve_conninfo(settings())
    with dask_client(scheduler, workers) as client:
        typer.echo(f"placing on Dask: {client.dashboard_link or scheduler}", err=True)
        summary, report = place_file(client, conninfo, file.resolve(), kind=kind,
                                     source=source, actor=actor, columns=columns, crs=crs,
                                     report=lines is not None)  # fmt: skip
    if lines is not None:
        lines.extend(report)
    return summary


def _place_here(
    table: Table,
    kind: str,
    source: str,
    actor: str,
    columns: dict[str, str | None],
    crs: str,
    workers: int,
    chunk_done: Callable[[list[Any]], None],
) -> PlaceSummary:
    """Place a table in this process (and ``workers`` geocoding processes), with a bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from blocks.placement.prepare import resolve_columns
    from blocks.placement.service import place_table
    from geocode.index import AddressIndex, load_index
    from geocode.pool import MatchPool
    from twin.cli.common import database

    by_address = resolve_columns(table.columns, kind, columns, crs)["address"] is not None
    with database(actor=actor) as conn:
        index = load_index(conn) if by_address else AddressIndex()  # points need none
        conn.commit()
        # The pool forks before the bar's thread starts.
        with MatchPool(index, workers if by_address else 1, details=False) as pool:
            bar_columns = ("[progress.description]{task.description}", BarColumn(),
                           MofNCompleteColumn(), TimeRemainingColumn())  # fmt: skip
            with Progress(*bar_columns, transient=True) as bar:
                task = bar.add_task(f"placing {kind}", total=len(table.rows))

                def done(results: list[Any]) -> None:
                    bar.advance(task, len(results))
                    chunk_done(results)

                return place_table(conn, pool, table, kind=kind, source=source, actor=actor,
                                   columns=columns, crs=crs, on_chunk=done)  # fmt: skip


def refresh_placements(
    workers: Annotated[int, typer.Option(min=1, max=64, help="Geocoding processes.")] = 2,
) -> None:
    """Re-place only the records whose address was changed or retired since they were placed."""
    from blocks.placement.refresh import refresh_placements as refresh
    from geocode.index import load_index
    from geocode.pool import MatchPool
    from twin.cli.common import database

    with database(actor="twin refresh-placements") as conn:
        index = load_index(conn)
        with MatchPool(index, workers, details=False) as pool:
            summary = refresh(conn, pool, "twin refresh-placements")
        conn.commit()
    typer.echo(summary.line())
