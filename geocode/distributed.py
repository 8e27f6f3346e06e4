"""Batches on a Dask cluster: files read in parts by the workers, each part handled where read.

Shipping rows from the client to the workers costs more than handling them, so the client
only plans: the workers read their own parts of the file (byte ranges of a CSV file, row
groups of a Parquet file; on a real cluster the path must be one every worker can open: a
shared disk, or an ``s3://``-style URL that fsspec reads), open their own database connection
and load what they need (the geocoder's index, the polygons) **once per worker process**,
kept for every later part. Rows keep their numbers in the file (``_row``, counted from 1),
so messages and reports name the same rows as a run in one process.

:func:`dask_client` starts a local cluster of processes (``scheduler="local"``) or connects
to a running scheduler. Dask (``distributed``, ``dask-geopandas``) is an optional extra:
``pip install 'citytwin[dask]'``; nothing here imports it before it is used.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geocode.batch import BatchInputError, BatchSummary, Table, column_texts, output_rows
from geocode.pool import match_many
from geocode.service import RESULT_COLUMNS
from twin.db.connect import redact

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pandas as pd
    from dask.dataframe import DataFrame as DaskFrame
    from distributed import Client

#: Bytes of a CSV file per part (the unit of work of a worker).
PART_BYTES = 16 << 20
#: The column that carries each row's number in the file (from 1).
ROW = "_row"
#: The column that carries a CSV row's problem as read (a malformed line), empty for none.
PROBLEM = "_problem"
#: A malformed line's number within its part (not the file's): dropped from its problem.
_LINE = re.compile(r"^malformed CSV line \d+: ")
_STATE: dict[str, tuple[str, Any]] = {}
_STATE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Conninfo:
    """A connection string sent to the workers, shown with its password hidden."""

    value: str

    def __repr__(self) -> str:
        """Show the redacted form (task graphs and logs may print arguments)."""
        return f"Conninfo({redact(self.value)!r})"


def missing_extra() -> str | None:
    """Return why Dask cannot be used here, or ``None`` when it can."""
    try:
        import dask.dataframe  # noqa: F401
        import dask_geopandas  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        return f"Dask is not installed ({exc.name}): pip install 'citytwin[dask]'"
    return None


@contextlib.contextmanager
def dask_client(scheduler: str, workers: int = 2) -> Iterator[Client]:
    """Connect to the scheduler at ``scheduler``, or start a local cluster for ``"local"``.

    A local cluster runs ``workers`` processes of one thread each (the work holds the
    interpreter: threads would not run it side by side).

    Raises
    ------
    BatchInputError
        When Dask is not installed.
    """
    problem = missing_extra()
    if problem is not None:
        raise BatchInputError(problem)
    from distributed import Client, LocalCluster

    if scheduler == "local":
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,  # fmt: skip
            Client(cluster) as client,
        ):
            yield client
    else:
        with Client(scheduler) as client:
            yield client


def worker_state(kind: str, run: str, make: Callable[[], Any]) -> Any:
    """Return what this worker process keeps for a run (a connection, an index), made once.

    A new run replaces what an earlier run of the same kind kept (a cluster outlives runs;
    the polygons or the library may have changed in between): its connection is closed.
    """
    with _STATE_LOCK:
        old = _STATE.get(kind)
        if old is not None and old[0] == run:
            return old[1]
        if old is not None:
            with contextlib.suppress(Exception):
                old[1][0].close()  # the state's first item is its connection
        _STATE[kind] = (run, make())
        return _STATE[kind][1]


def check_parts_format(path: str | Path) -> None:
    """Refuse a file the workers cannot read in parts (before a cluster is started).

    Raises
    ------
    BatchInputError
        For anything but CSV and Parquet.
    """
    if Path(str(path)).suffix.lower() not in (".csv", ".txt", ".parquet"):
        raise BatchInputError(
            f"{Path(str(path)).name}: with --dask the workers read the file in parts: use CSV "
            "or Parquet (convert .xlsx, .gpkg or .geojson first)"
        )


def read_parts(path: str | Path) -> DaskFrame:
    """Return a file as a Dask frame of text cells, read in parts by the workers, rows numbered.

    Nothing is read here: the numbers come from the parts' lengths within the same graph, so
    one computation reads each part once.

    Raises
    ------
    BatchInputError
        For a format that cannot be read in parts (Excel, GeoPackage: convert it to CSV or
        Parquet), or a file that cannot be opened.
    """
    import dask
    import dask.dataframe as dd

    name = str(path)
    check_parts_format(name)
    try:
        if Path(name).suffix.lower() == ".parquet":
            frame = dd.read_parquet(name)
        else:
            frame = _csv_parts(name)
    except BatchInputError:
        raise
    except Exception as exc:
        raise BatchInputError(f"{name}: cannot be read in parts ({exc})") from exc
    starts = dask.delayed(_starts)(frame.map_partitions(len).to_delayed())
    meta = frame._meta.assign(**{ROW: 0}).astype(object)
    return frame.map_partitions(_numbered, starts, meta=meta)


def _csv_parts(name: str) -> DaskFrame:
    """Read a CSV file in parts of whole lines, each parsed as one process parses a file.

    A malformed line (a quote left open, too many or too few fields) is a row with its
    problem (:data:`PROBLEM`), never a failed part. The client reads the header line only.
    A quoted cell that spans lines must not span two parts: keep such cells on one line.
    """
    import dask
    import dask.dataframe as dd
    import pandas as pd
    from dask.bytes import read_bytes

    sample, blocks = read_bytes(name, delimiter=b"\n", blocksize=PART_BYTES, sample="64 kiB")
    first = sample.split(b"\n", 1)[0] + b"\n"  # the sample ends with a whole line
    header = _parse_block(first, b"", name)
    if header is None:
        raise BatchInputError(f"{name}: the file is empty")
    columns = list(header.columns)[:-1]  # the last is the problems'
    if PROBLEM in columns or ROW in columns:
        raise BatchInputError(f"{name}: a column may not be called {PROBLEM!r} or {ROW!r}")
    heads = [b""] + [first] * (len(blocks[0]) - 1)  # the first part starts with the header
    parts = [dask.delayed(_parse_block)(b, h, name) for b, h in zip(blocks[0], heads, strict=True)]
    meta = pd.DataFrame({c: pd.Series(dtype=object) for c in header.columns})
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def _parse_block(block: bytes, head: bytes, name: str) -> pd.DataFrame | None:
    """Return a CSV part as text cells and each row's problem (empty for none).

    ``head`` is the file's header line, put before every part but the first (which has it).
    """
    import pandas as pd

    from twin.load.errors import DataImportError
    from twin.load.reader import decode_text, parse_csv

    try:
        parsed = parse_csv(decode_text(head + block, Path(name)))
    except DataImportError as exc:
        raise BatchInputError(str(exc)) from None
    if parsed is None:
        return None
    header = list(parsed.header)
    problems = [_LINE.sub("malformed CSV line: ", parsed.problems.get(i, ""))
                for i in range(len(parsed.rows))]  # fmt: skip
    frame = pd.DataFrame(parsed.rows, columns=header, dtype=object)
    return frame.assign(**{PROBLEM: problems})


def file_columns(frame: DaskFrame) -> list[str]:
    """Return a file's own columns (without the row numbers and problems added here)."""
    return [c for c in frame.columns if c not in (ROW, PROBLEM)]


def _starts(sizes: list[Any]) -> list[int]:
    """Return the first row number of each part from the parts' lengths."""
    out, at = [], 1
    for size in sizes:
        out.append(at)
        at += int(size.iloc[0])
    return out


def _numbered(
    part: pd.DataFrame, starts: list[int], partition_info: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Return a part as text cells (empty for missing ones) with the rows' numbers."""
    import numpy as np

    start = starts[partition_info["number"]] if partition_info else 1
    cells = part.astype(object).where(part.notna(), "")
    return cells.assign(**{ROW: np.arange(start, start + len(part))}).astype(object)


def part_table(part: pd.DataFrame, columns: list[str]) -> tuple[Table, list[int]]:
    """Return a part's cells as a :class:`Table` and its rows' numbers in the file."""
    part = part.sort_values(ROW, kind="stable")
    problems: dict[int, str] = {}
    if PROBLEM in part.columns:
        problems = {i: p for i, p in enumerate(part[PROBLEM].tolist()) if p}
    rows = part[columns].to_numpy(dtype=object).tolist()
    return Table(columns, rows, problems), part[ROW].tolist()


@dataclass(frozen=True)
class GeocodeParts:
    """What each worker needs to geocode its parts of a file."""

    conninfo: Conninfo
    columns: list[str]
    column: str
    run: str


def _geocoder_state(conninfo: Conninfo) -> tuple[Any, Any]:
    from geocode.index import load_index
    from twin.db.connect import connect

    conn = connect(conninfo.value, autocommit=True)
    return conn, load_index(conn)


def geocode_part(part: pd.DataFrame, job: GeocodeParts) -> pd.DataFrame:
    """Geocode one part on a worker: its rows with the result columns and the row numbers."""
    import pandas as pd

    conn, index = worker_state("geocode", job.run, lambda: _geocoder_state(job.conninfo))
    table, numbers = part_table(part, job.columns)
    texts = column_texts(table, job.column)
    results = match_many(index, texts)
    offset = numbers[0] - 1 if numbers else 0  # a part's rows are consecutive in the file
    rows = output_rows(conn, table, 0, texts, results, job.column, Counter(), offset)
    header = job.columns + [c for c in RESULT_COLUMNS if c not in job.columns]
    return pd.DataFrame(rows, columns=header, dtype=object).assign(**{ROW: numbers})


def geocode_file(
    client: Client, conninfo: str, path: str | Path, column: str
) -> tuple[list[str], list[list[Any]], BatchSummary]:
    """Geocode a CSV or Parquet file on the cluster; return the output header, rows, summary.

    Raises
    ------
    BatchInputError
        When the file cannot be read in parts or ``column`` is not one of its columns.
    """
    started = time.perf_counter()
    frame = read_parts(path)
    columns = file_columns(frame)
    if column not in columns:
        shown = ", ".join(columns)
        raise BatchInputError(f"column {column!r} is not in the file (columns: {shown})")
    header = columns + [c for c in RESULT_COLUMNS if c not in columns]
    job = GeocodeParts(Conninfo(conninfo), columns, column, uuid.uuid4().hex)
    meta = dict.fromkeys([*header, ROW], object)
    done = client.compute(frame.map_partitions(geocode_part, job, meta=meta)).result()
    done = done.sort_values(ROW, kind="stable")
    rows = done[header].to_numpy(dtype=object).tolist()
    bands = Counter(done["band"].tolist())
    return header, rows, BatchSummary(len(rows), bands, time.perf_counter() - started)
