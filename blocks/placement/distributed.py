"""Placement on a Dask cluster: ``twin place FILE --dask SCHEDULER`` (or ``--dask local``).

The client plans and the workers place (:mod:`geocode.distributed` says how files are read
in parts). The plan:

1. the workers read the file in parts and number its rows; record ids that repeat are found
   on the cluster (only the repeated ones come back: id → first row);
2. a file with coordinates is **partitioned spatially**: its rows go to parts by blocks of
   the Hilbert distance of their point (dask-geopandas), so each part covers a few compact
   areas and its worker reads the polygons of those areas only;
3. each worker opens one connection and keeps it, with its polygons in memory
   (:class:`~blocks.placement.points.PointLocator`, loaded once and grown as parts need) and,
   for files with addresses, the geocoder's index; it places its parts in chunks, each chunk
   one transaction written through COPY (:meth:`PgPlacementRepository.write`);
4. only the answers come back (status and method per row, or the whole report line).

WGS84 points are checked for another datum (GCJ-02 or BD-09 given as WGS84) on the file's
first rows, read by the client from the first part, as one process checks its first chunk.
A part that fails can be run again: placing is idempotent on (kind, source, record id). Not
done here: scoped keys, which are the API's (a grid worker's key never reaches a cluster).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from blocks.coding.model import RowProblem
from blocks.placement.model import REPORT_COLUMNS
from blocks.placement.prepare import prepare_rows, resolve_columns
from blocks.placement.repository import PgPlacementRepository
from blocks.placement.service import PlaceSummary, datum_hints, place_with
from geocode.distributed import (
    ROW,
    Conninfo,
    file_columns,
    part_table,
    read_parts,
    worker_state,
)
from geocode.pool import match_many
from twin.crs import SHENZHEN_BBOX_WGS84, WGS84, parse_crs
from twin.db.connect import connect

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    from dask.dataframe import DataFrame as DaskFrame
    from dask.delayed import Delayed
    from distributed import Client

    from blocks.placement.model import PlaceInput
    from blocks.placement.prepare import Columns

#: Rows per transaction on a worker.
PART_CHUNK_ROWS = 20_000
#: Hilbert curve level of the spatial partitioning (2^16 cells a side), and the curve's
#: blocks per part (a part holds a few compact areas).
HILBERT_LEVEL, BLOCKS_PER_PART = 16, 4
_BRIEF = ("row", "status", "method")


@dataclass(frozen=True)
class PlaceParts:
    """What each worker needs to place its parts of a file."""

    conninfo: Conninfo
    run: str
    columns: list[str]
    kind: str
    source: str
    actor: str
    explicit: dict[str, str | None]
    crs: str
    by_address: bool
    report: bool


def _placer_state(job: PlaceParts) -> tuple[Any, PgPlacementRepository, Any]:
    from geocode.index import AddressIndex, load_index
    from twin.db.connect import connect

    conn = connect(job.conninfo.value)
    index = load_index(conn) if job.by_address else AddressIndex()
    conn.commit()
    return conn, PgPlacementRepository(conn), lambda texts: match_many(index, texts)


def _repeats(rows: list[PlaceInput], first: dict[str, int]) -> None:
    for rec in rows:
        seen = first.get(rec.source_id or "")
        repeated = any(p.field == "id" and "repeats" in p.message for p in rec.errors)
        if seen is not None and seen < rec.row and not repeated:
            rec.errors.append(RowProblem("id", f"{rec.source_id!r} repeats row {seen}"))


def place_part(part: pd.DataFrame, job: PlaceParts, first: dict[str, int]) -> pd.DataFrame:
    """Place one part on a worker; return its answers (brief, or the report's lines)."""
    import pandas as pd

    conn, repo, matcher = worker_state("place", job.run, lambda: _placer_state(job))
    conn.execute("SELECT set_config('twin.actor', %s, false)", (job.actor,))
    conn.commit()
    table, numbers = part_table(part, job.columns)
    cols = resolve_columns(job.columns, job.kind, job.explicit, job.crs)
    lines: list[list[Any]] = []
    for lo in range(0, len(numbers), PART_CHUNK_ROWS):
        hi = lo + PART_CHUNK_ROWS
        problems = {i - lo: p for i, p in table.problems.items() if lo <= i < hi}
        checked = prepare_rows(job.columns, table.rows[lo:hi], cols, job.kind, problems,
                               numbers=numbers[lo:hi])  # fmt: skip
        _repeats(checked, first)
        with conn.transaction():
            results = place_with(repo, matcher, checked, job.kind, job.source, job.actor)
        if job.report:
            lines += [[d[c] for c in REPORT_COLUMNS] for d in (r.as_dict() for r in results)]
        else:
            lines += [[r.row, r.status, r.method] for r in results]
    return pd.DataFrame(lines, columns=list(REPORT_COLUMNS if job.report else _BRIEF),
                        dtype=object)  # fmt: skip


def repeated_ids(frame: DaskFrame, id_column: str) -> Delayed:
    """Return (lazily) each record id that occurs more than once, with its first row."""
    import dask

    ids = frame[id_column].astype(str).str.replace("\x00", "").str.strip().str[:200]
    rows = frame[ROW].astype("int64")
    grouped = rows.groupby(ids).agg(["min", "count"])
    return dask.delayed(_first_rows)(grouped[grouped["count"] > 1]["min"].to_delayed())


def _first_rows(parts: list[pd.Series[Any]]) -> dict[str, int]:
    return {str(k): int(v) for part in parts for k, v in part.items() if k}


def spatially(frame: DaskFrame, lon: str, lat: str, crs: str) -> DaskFrame:
    """Return the rows partitioned by area: blocks along a Hilbert curve of their points.

    The curve runs over Shenzhen's box (points read in their CRS, converted to WGS84, clipped;
    unreadable ones count as its corner); each part receives whole blocks of the curve (a
    block is a compact area), without a pass over the data to find where to cut.
    """
    import dask_geopandas

    meta = {**frame.dtypes.to_dict(), "_x": float, "_y": float}
    points = frame.map_partitions(_wgs84_xy, lon, lat, crs, meta=meta)
    geo = dask_geopandas.from_dask_dataframe(
        points, geometry=dask_geopandas.points_from_xy(points, "_x", "_y")
    )
    distance = geo.hilbert_distance(total_bounds=SHENZHEN_BBOX_WGS84, level=HILBERT_LEVEL)
    blocks = frame.npartitions * BLOCKS_PER_PART
    block = (distance.astype("int64") * blocks) // (1 << (2 * HILBERT_LEVEL))
    keyed = frame.assign(_block=block)
    return keyed.shuffle(on="_block", npartitions=frame.npartitions).drop(columns=["_block"])


def _wgs84_xy(part: pd.DataFrame, lon: str, lat: str, crs: str) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    from twin.crs import to_wgs84

    x = pd.to_numeric(part[lon], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(part[lat], errors="coerce").to_numpy(dtype=float)
    source = parse_crs(crs)
    if source != WGS84 and len(x):
        ok = np.isfinite(x) & np.isfinite(y)
        x[ok], y[ok] = to_wgs84(x[ok], y[ok], source)
    w, s, e, n = SHENZHEN_BBOX_WGS84
    x = np.clip(np.nan_to_num(x, nan=w), w, e)
    y = np.clip(np.nan_to_num(y, nan=s), s, n)
    return part.assign(_x=x, _y=y)


#: Rows at the head of a file whose WGS84 points are checked for another datum.
HINT_ROWS = 2_000


def head_hints(
    frame: DaskFrame, header: list[str], cols: Columns, kind: str, conninfo: str
) -> list[str]:
    """Return the datum hints of the file's first rows (read from its first part only)."""
    if cols["lon"] is None or cols["lat"] is None or parse_crs(cols.crs_name) != WGS84:
        return []
    head = frame.head(HINT_ROWS, npartitions=1)
    rows = head[header].to_numpy(dtype=object).tolist()
    checked = prepare_rows(header, rows, cols, kind)
    with contextlib.closing(connect(conninfo)) as conn:
        return datum_hints(PgPlacementRepository(conn), checked)


def place_file(
    client: Client,
    conninfo: str,
    path: str | Path,
    *,
    kind: str,
    source: str,
    actor: str,
    columns: dict[str, str | None],
    crs: str = "EPSG:4326",
    report: bool = False,
) -> tuple[PlaceSummary, list[list[Any]]]:
    """Place a CSV or Parquet file on the cluster; return the summary and the report's lines.

    The report's lines (:data:`REPORT_COLUMNS`, in row order) come back only when
    ``report`` is asked for.

    Raises
    ------
    blocks.errors.PlacementInputError
        When the columns offer nothing to place by, or a named column is missing.
    geocode.batch.BatchInputError
        When the file cannot be read in parts.
    """
    started = time.perf_counter()
    frame = read_parts(path)
    header = file_columns(frame)
    cols = resolve_columns(header, kind, columns, crs)
    hints = head_hints(frame, header, cols, kind, conninfo)
    first = repeated_ids(frame, cols["id"] or "")  # lazy: one computation does it all
    if cols["lon"] is not None and cols["lat"] is not None:
        frame = spatially(frame, cols["lon"], cols["lat"], crs)
    job = PlaceParts(Conninfo(conninfo), uuid.uuid4().hex, header, kind, source, actor,
                     dict(columns), crs, cols["address"] is not None, report)  # fmt: skip
    names = REPORT_COLUMNS if report else _BRIEF
    placed = frame.map_partitions(place_part, job, first, meta=dict.fromkeys(names, object))
    done = client.compute(placed).result().sort_values("row", kind="stable")
    summary = PlaceSummary(rows=len(done), hints=hints)
    summary.statuses = Counter(done["status"].tolist())
    valid = done[done["status"] != "invalid"]
    summary.methods = Counter(m for m in valid["method"].tolist() if m)
    summary.seconds = time.perf_counter() - started
    lines = done[list(names)].to_numpy(dtype=object).tolist() if report else []
    return summary, lines
