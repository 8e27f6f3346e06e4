"""Geocode a table file: every input row and column out, plus the geocoder's columns.

Input: CSV (UTF-8, UTF-8 with BOM or GBK; comma, semicolon or tab), Excel ``.xlsx`` (first
sheet), GeoPackage, GeoJSON or (Geo)Parquet. Output by the name's extension: ``.csv``
(UTF-8 with BOM, so Excel opens it), ``.xlsx``, ``.parquet`` or ``.gpkg`` (points at the
matched locations). Rows are matched in chunks by worker processes (one per core), which
share the index loaded before they start; the standard texts and locations of the matched
codes are read from the database a chunk at a time. A row that cannot be read (a CSV line
with the wrong number of fields, an empty cell) comes out with ``band = reject`` and a
reason: no row is ever dropped.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from geocode.errors import GeocodeError
from geocode.pool import MatchPool
from geocode.service import RESULT_COLUMNS, describe, result_record
from twin.load.errors import DataImportError
from twin.load.reader import decode_text, parse_csv

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    import psycopg

    from geocode.index import AddressIndex
    from geocode.match import MatchResult

#: Rows per chunk handed to a worker.
CHUNK_ROWS = 2_000
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".gpkg", ".geojson", ".json", ".parquet")
#: An Excel file may unpack to at most this much, at most this many times its size (a zip
#: bomb is refused before it is opened).
MAX_UNZIPPED_BYTES = 1 << 30
MAX_ZIP_RATIO = 200
#: What each binary format starts with.
_MAGIC = {".xlsx": b"PK\x03\x04", ".parquet": b"PAR1", ".gpkg": b"SQLite format 3\x00"}


class BatchInputError(GeocodeError, ValueError):
    """The file cannot be read as a table, or the address column is missing."""


@dataclass
class Table:
    """Rows of a file: the header, the cells (strings) and a problem per row, if any."""

    columns: list[str]
    rows: list[list[Any]]
    problems: dict[int, str] = field(default_factory=dict)


@dataclass
class BatchSummary:
    """What a batch did."""

    rows: int
    bands: Counter[str]
    seconds: float

    @property
    def rows_per_second(self) -> float:
        """Throughput of the whole run (reading, matching, describing, writing)."""
        return self.rows / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        """One line for people."""
        b = self.bands
        return (
            f"{self.rows:,} rows: {b['accept']:,} accepted, {b['review']:,} to review, "
            f"{b['reject']:,} rejected; {self.rows_per_second:,.0f} rows/s"
        )


def read_table(path: Path) -> Table:
    """Read a CSV, Excel, GeoPackage, GeoJSON or Parquet file as a table of cells.

    Raises
    ------
    BatchInputError
        For a missing file, an unknown extension or an unreadable file.
    """
    if not path.is_file():
        raise BatchInputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    check_content(path)
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            return _read_csv(path)
        if suffix == ".xlsx":
            return _read_xlsx(path)
        if suffix in (".gpkg", ".geojson", ".json", ".parquet"):
            return _read_frame(path)
    except BatchInputError:
        raise
    except Exception as exc:
        raise BatchInputError(f"{path}: cannot be read ({exc})") from exc
    raise BatchInputError(f"{path}: use one of {', '.join(TABLE_SUFFIXES)}")


def check_content(path: Path) -> None:
    """Refuse a file that is not what its name says, or an Excel file that unpacks too far.

    Raises
    ------
    BatchInputError
        With the reason.
    """
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        head = fh.read(8192)
    if not head:
        raise BatchInputError(f"{path.name}: the file is empty")
    magic = _MAGIC.get(suffix)
    if magic is not None and not head.startswith(magic):
        raise BatchInputError(
            f"{path.name} is not a {suffix[1:]} file (its content says otherwise)"
        )
    if magic is None and b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BatchInputError(f"{path.name} is not a text file (it holds binary data)")
    if suffix == ".xlsx":
        _check_zip(path)


def _check_zip(path: Path) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise BatchInputError(f"{path.name} is not a valid xlsx file ({exc})") from None
    size = max(1, path.stat().st_size)
    if unpacked > MAX_UNZIPPED_BYTES or unpacked / size > MAX_ZIP_RATIO:
        raise BatchInputError(
            f"{path.name} unpacks to {unpacked:,} bytes ({unpacked / size:,.0f} times its size): "
            "refused as a possible zip bomb"
        )


def _read_csv(path: Path) -> Table:
    try:
        parsed = parse_csv(decode_text(path.read_bytes(), path))
    except DataImportError as exc:
        raise BatchInputError(str(exc)) from None
    if parsed is None:
        raise BatchInputError(f"{path}: the file is empty")
    return Table(parsed.header, parsed.rows, parsed.problems)


def _read_xlsx(path: Path) -> Table:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise BatchInputError(f"{path}: the first sheet is empty")
        columns = ["" if h is None else str(h).strip() for h in header]
        table = Table(columns, [])
        for values in rows:
            cells = ["" if v is None else v for v in values][: len(columns)]
            if all(c == "" for c in cells):
                continue
            table.rows.append(cells + [""] * (len(columns) - len(cells)))
        return table
    finally:
        book.close()


def _read_frame(path: Path) -> Table:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        frame = pq.read_table(path).to_pandas()
    else:
        import pyogrio

        frame = pyogrio.read_dataframe(path, read_geometry=False)
    frame = frame.drop(columns=[c for c in frame.columns if c in ("geometry", "geom")])
    columns = [str(c) for c in frame.columns]
    rows = [["" if v is None else v for v in r] for r in frame.itertuples(index=False)]
    return Table(columns, rows)


def _chunks(texts: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(texts), CHUNK_ROWS):
        yield texts[i : i + CHUNK_ROWS]


def match_texts(
    index: AddressIndex,
    texts: list[str],
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> Iterator[list[MatchResult]]:
    """Match texts in chunks, in order, with ``workers`` processes (1: in this process).

    Each distinct text of a chunk is matched once (:mod:`geocode.pool`); the next chunk is
    matched while the caller handles one.
    """
    with MatchPool(index, workers if len(texts) > CHUNK_ROWS else 1) as pool:
        ahead: Callable[[], list[MatchResult]] | None = None
        for chunk in [*_chunks(texts), None]:
            after = pool.submit(chunk) if chunk is not None else None
            if ahead is not None:
                out = ahead()
                if progress:
                    progress(len(out))
                yield out
            ahead = after


def geocode_table(
    conn: psycopg.Connection[Any],
    index: AddressIndex,
    table: Table,
    column: str,
    *,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
    skip: int = 0,
    sink: Callable[[int, list[list[Any]]], None] | None = None,
) -> tuple[list[str], list[list[Any]], BatchSummary]:
    """Geocode one column of a table; return the output header, rows and a summary.

    ``skip`` rows are left out (a resumed job has them already); ``sink`` receives each chunk
    of output rows with the index of its first row, as soon as the chunk is done.

    Raises
    ------
    BatchInputError
        When ``column`` is not a column of the table.
    """
    if column not in table.columns:
        raise BatchInputError(
            f"column {column!r} is not in the file (columns: {', '.join(table.columns)})"
        )
    started = time.perf_counter()
    texts = column_texts(table, column)
    taken = [c for c in RESULT_COLUMNS if c not in table.columns]
    header = table.columns + taken
    out_rows: list[list[Any]] = []
    bands: Counter[str] = Counter()
    for results in match_texts(index, texts[skip:], workers, progress):
        first = skip + len(out_rows)
        out_rows += output_rows(conn, table, first, texts, results, column, bands)
        if sink is not None:
            sink(first, out_rows[first - skip :])
    return header, out_rows, BatchSummary(len(out_rows), bands, time.perf_counter() - started)


def column_texts(table: Table, column: str) -> list[str]:
    """Return the texts of a column (empty for a row that could not be read)."""
    at = table.columns.index(column)
    return [
        "" if i in table.problems else str(row[at] if row[at] is not None else "")
        for i, row in enumerate(table.rows)
    ]


def output_rows(
    conn: psycopg.Connection[Any],
    table: Table,
    start: int,
    texts: Sequence[str],
    results: Sequence[MatchResult],
    column: str,
    bands: Counter[str],
    row_offset: int = 0,
) -> list[list[Any]]:
    """Return the output rows of matched rows: the table's cells and the result's columns.

    The results are those of ``texts[start:]`` (rows of ``table`` from ``start``); a row is
    named ``row_offset + index + 1`` (a part of a file knows where it starts); ``bands``
    counts the bands.
    """
    taken = [c for c in RESULT_COLUMNS if c not in table.columns]
    described = describe(conn, [r.code for r in results])
    out = []
    for i, result in enumerate(results, start):
        if i in table.problems:
            result.reason = table.problems[i]
        elif not texts[i].strip():
            result.reason = f"row {row_offset + i + 1}: the {column} cell is empty"
        rec = result_record(result, described)
        bands[rec["band"]] += 1
        out.append(list(table.rows[i]) + [rec[c] for c in taken])
    return out


def write_table(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write a table by the name's extension, through a temporary file moved into place.

    Raises
    ------
    BatchInputError
        For an extension the writer does not know.
    """
    suffix = path.suffix.lower()
    tmp = path.with_name(f".{path.stem}.part{path.suffix}")
    if suffix in (".csv", ".txt"):
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
    elif suffix == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("geocoded")
        sheet.append(list(header))
        for row in rows:
            sheet.append(list(row))
        book.save(tmp)
    elif suffix in (".parquet", ".gpkg"):
        _write_frame(tmp, suffix, header, rows)
    else:
        raise BatchInputError(f"{path}: write .csv, .xlsx, .parquet or .gpkg")
    tmp.replace(path)


def _write_frame(tmp: Path, suffix: str, header: Sequence[str], rows: Sequence[Any]) -> None:
    import pandas as pd

    frame = pd.DataFrame([list(r) for r in rows], columns=list(header))
    for col in frame.columns:
        if col not in ("lon", "lat", "confidence"):
            frame[col] = frame[col].map(lambda v: None if v is None else str(v))
    if suffix == ".parquet":
        frame.to_parquet(tmp)
        return
    import geopandas as gpd

    points = gpd.points_from_xy(frame["lon"], frame["lat"], crs="EPSG:4326")
    gpd.GeoDataFrame(frame, geometry=points).to_file(tmp, driver="GPKG", layer="geocoded")
