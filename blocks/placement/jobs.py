"""Placement as a background job: a file placed chunk by chunk, resumable, with a report.

Each chunk is stored in its own transaction before it is counted in ``done_rows``; a job
interrupted by a database restart (or a server stop) carries on after the last counted chunk.
A chunk stored but not yet counted is placed again on resume: placing is idempotent on
(kind, source, record id), so nothing is stored twice. The report lines of each chunk are
appended to ``report.part.csv`` as they are stored; the result file keeps the last line of
every row, in row order.
"""

from __future__ import annotations

import csv
from collections import Counter
from typing import TYPE_CHECKING, Any

from blocks.placement.model import REPORT_COLUMNS
from blocks.placement.prepare import resolve_columns
from blocks.placement.service import place_table
from geocode.batch import write_table
from geocode.jobs import JobHandler
from geocode.pool import match_many
from twin.keys import Principal

if TYPE_CHECKING:
    from pathlib import Path

    from blocks.placement.model import PlaceResult
    from geocode.batch import Table
    from geocode.jobs import JobContext
    from geocode.match import MatchResult

#: The partial report of a running job, in its folder.
PART = "report.part.csv"
#: Rows per chunk of a job: its unit of progress and of resuming.
JOB_CHUNK_ROWS = 5_000


def place_params(
    kind: str,
    source: str,
    columns: dict[str, str | None],
    crs: str = "EPSG:4326",
    scope_code: str | None = None,
    chunk_rows: int = JOB_CHUNK_ROWS,
) -> dict[str, Any]:
    """Return a placement job's parameters (as ``job.json`` keeps them)."""
    return {"kind": kind, "source": source, "columns": columns, "crs": crs,
            "scope_code": scope_code, "chunk_rows": chunk_rows}  # fmt: skip


def check_table(params: dict[str, Any]) -> Any:
    """Return a check that refuses an upload whose columns cannot be placed."""

    def check(table: Table) -> None:
        resolve_columns(table.columns, params["kind"], params["columns"], params["crs"])

    return check


def _append(path: Path, results: list[PlaceResult]) -> None:
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        for r in results:
            d = r.as_dict()
            writer.writerow(["" if d[c] is None else d[c] for c in REPORT_COLUMNS])


def _finish(ctx: JobContext) -> dict[str, int]:
    last: dict[int, list[str]] = {}
    part = ctx.folder / PART
    if part.exists():
        with part.open(encoding="utf-8", newline="") as fh:
            for line in csv.reader(fh):
                last[int(line[0])] = line
    rows = [last[k] for k in sorted(last)]
    write_table(ctx.folder / ctx.job.output, REPORT_COLUMNS, rows)
    part.unlink(missing_ok=True)
    return dict(Counter(line[REPORT_COLUMNS.index("status")] for line in rows))


def run_place_job(ctx: JobContext) -> dict[str, int]:
    """Place the job's table after ``done_rows``; write the report; return counts by status."""
    p = ctx.job.params
    scope = None
    if p.get("scope_code"):
        scope = Principal(ctx.job.owner or "job", ctx.job.actor, "grid_worker", p["scope_code"])

    def stored(results: list[PlaceResult]) -> None:
        _append(ctx.folder / PART, results)
        ctx.progress(len(results))

    index = ctx.index

    def matcher(texts: list[str]) -> list[MatchResult]:
        return match_many(index, texts)  # each distinct address once

    place_table(ctx.conn, matcher, ctx.table, kind=p["kind"],
                source=p["source"], actor=ctx.job.actor, columns=p["columns"], crs=p["crs"],
                start_row=ctx.start, chunk_rows=p.get("chunk_rows", JOB_CHUNK_ROWS),
                on_chunk=stored, scope=scope)  # fmt: skip
    return _finish(ctx)


#: The ``place`` kind of job, for :class:`geocode.jobs.JobRunner`.
PLACE_JOB = JobHandler(run_place_job, lambda _folder, job: job.done_rows)
