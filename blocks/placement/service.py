"""Placing records (落图入块): checked rows in, records and placements stored, one answer per row.

:func:`place_rows` places one batch in the caller's transaction (the API's batch route);
:func:`place_table` places a whole table file in chunks, each chunk its own transaction, so
a file of millions of rows is stored chunk by chunk and a job that stops can resume after the
last stored chunk. Re-placing the same records (same kind, source and record ids) updates
them and their placements; it never adds them twice.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.pq import TransactionStatus

from blocks.coding.model import RowProblem
from blocks.placement.locate import locate
from blocks.placement.model import PlaceResult, Status
from blocks.placement.prepare import prepare_rows, resolve_columns
from blocks.placement.repository import PgPlacementRepository, stage_text
from twin.crs import WGS84, bd09_to_wgs84, gcj02_to_wgs84, parse_crs

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from concurrent.futures import Future

    from blocks.placement.locate import Matcher
    from blocks.placement.model import Located, PlaceInput
    from blocks.placement.repository import PlacementRepository
    from geocode.batch import Table
    from geocode.match import MatchResult
    from twin.keys import Principal

#: Rows per chunk of a file (one transaction each): large, so that the points of a chunk
#: are located on both cores (:data:`blocks.placement.points.PARALLEL_FROM`) and the count
#: triggers change each block's count row once for many records (a chunk of 20,000 events
#: spread over a district's 19,000 buildings changes a count row per record or two).
CHUNK_ROWS = 50_000


@dataclass
class PlaceSummary:
    """What a placement run did."""

    rows: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    #: Advice about the input as a whole (coordinates that look like GCJ-02 or BD-09).
    hints: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        """Throughput of the whole run (checking, locating, storing)."""
        return self.rows / self.seconds if self.seconds else 0.0

    def add(self, results: Sequence[PlaceResult]) -> None:
        """Count a chunk's results."""
        self.rows += len(results)
        self.statuses.update(r.status for r in results)
        self.methods.update(r.method for r in results if r.method and r.status != "invalid")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counts."""
        return {"rows": self.rows, "statuses": dict(sorted(self.statuses.items())),
                "methods": dict(sorted(self.methods.items())),
                "seconds": round(self.seconds, 3),
                "rows_per_second": round(self.rows_per_second, 1), "hints": self.hints}  # fmt: skip

    def line(self) -> str:
        """One line for people."""
        s, m = self.statuses, self.methods
        how = ", ".join(f"{n:,} by {k}" for k, n in sorted(m.items()))
        return (f"{self.rows:,} rows: {s['placed']:,} placed, {s['review']:,} to review, "
                f"{s['rejected']:,} rejected, {s['invalid']:,} invalid ({how or 'none placed'}); "
                f"{self.rows_per_second:,.0f} rows/s"
                + "".join(f"\nhint: {h}" for h in self.hints))  # fmt: skip


def _status(band: str) -> Status:
    return "placed" if band == "accept" else "review" if band == "review" else "rejected"


def _check_scope(
    repo: PlacementRepository,
    rows: Sequence[PlaceInput],
    located: Sequence[Located],
    kind: str,
    source: str,
    scope: Principal,
) -> None:
    """Keep a scoped key's rows inside its scope: where they land, and where they were."""
    ids = [r.source_id for r in rows if r.is_valid and r.source_id]
    before = repo.placed(kind, source, ids)
    for rec, loc in zip(rows, located, strict=True):
        if not rec.is_valid:
            continue
        p = loc.path
        if not scope.covers(p.grid, p.community, p.building, p.room):
            shown = p.deepest or "no block"
            rec.errors.append(RowProblem("scope", f"placed in {shown}, outside this key's "
                                         f"scope ({scope.scope_code})"))  # fmt: skip
        old = before.get(rec.source_id or "")
        if old is not None and not scope.covers(old.grid, old.community, old.building, old.room):
            rec.errors.append(RowProblem("id", f"{rec.source_id!r} is placed outside this "
                                         f"key's scope ({scope.scope_code})"))  # fmt: skip


def locate_checked(
    repo: PlacementRepository,
    matcher: Matcher,
    rows: Sequence[PlaceInput],
    kind: str,
    source: str,
    scope: Principal | None = None,
) -> list[Located]:
    """Locate checked rows (reads only); a scoped key's rows outside its scope get errors."""
    located = locate(repo, matcher, rows, kind)
    if scope is not None and scope.scope_code is not None:
        _check_scope(repo, rows, located, kind, source, scope)
    return located


def store_located(
    repo: PlacementRepository,
    rows: Sequence[PlaceInput],
    located: Sequence[Located],
    kind: str,
    source: str,
    actor: str,
    staged: str | None = None,
) -> list[PlaceResult]:
    """Store the valid located rows and answer every row in order.

    ``staged`` is the valid rows' stage text made ahead
    (:func:`~blocks.placement.repository.stage_text`), if it was.
    """
    valid = [(r, loc) for r, loc in zip(rows, located, strict=True) if r.is_valid]
    stored = {s.row: s for s in repo.write(kind, source, actor, valid, staged)}
    out = []
    for rec, loc in zip(rows, located, strict=True):
        problems = rec.errors + rec.warnings
        s = stored.get(rec.row)
        if s is None:
            why = "; ".join(f"{p.field}: {p.message}" for p in rec.errors) or None
            out.append(
                PlaceResult(rec.row, rec.source_id, "invalid", reason=why, problems=problems)
            )
            continue
        result = PlaceResult(
            rec.row, rec.source_id, _status(s.band), s.method, s.confidence, s.band, s.path,
            loc.reason, s.record_id, s.placement_id, problems,
        )  # fmt: skip
        out.append(result)
    return out


def place_with(
    repo: PlacementRepository,
    matcher: Matcher,
    rows: Sequence[PlaceInput],
    kind: str,
    source: str,
    actor: str,
    scope: Principal | None = None,
) -> list[PlaceResult]:
    """Locate checked rows, store the valid ones, and answer every row in order.

    With a scoped key (``scope``), rows that land outside its scope, or whose record is
    placed outside it already, are not stored (``scope`` / ``id`` problems).
    """
    located = locate_checked(repo, matcher, rows, kind, source, scope)
    return store_located(repo, rows, located, kind, source, actor)


def place_rows(
    conn: psycopg.Connection[Any],
    matcher: Matcher,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    kind: str,
    source: str,
    actor: str,
    columns: Mapping[str, str | None] | None = None,
    crs: str = "EPSG:4326",
    scope: Principal | None = None,
) -> list[PlaceResult]:
    """Place one batch of rows (cells under ``header``) in the caller's transaction.

    Raises
    ------
    blocks.errors.PlacementInputError
        When the columns offer nothing to place by, or an explicit column is missing.
    """
    cols = resolve_columns(header, kind, columns or {}, crs)
    checked = prepare_rows(header, rows, cols, kind)
    return place_with(PgPlacementRepository(conn), matcher, checked, kind, source, actor, scope)


@dataclass
class _Chunk:
    """A chunk prepared ahead.

    Checked, with the geocoding of its addresses under way (a pool's), and, where a reading
    connection is at hand, located and staged too.
    """

    start: int
    rows: list[PlaceInput]
    texts: list[str]
    pending: Callable[[], list[MatchResult]] | None
    located: list[Located] | None = None
    staged: str | None = None
    hints: list[str] = field(default_factory=list)

    def matcher(self, matcher: Matcher) -> Matcher:
        """Return a matcher that answers the texts under way from them, others by ``matcher``."""
        if self.pending is None:
            return matcher
        ready = dict(zip(self.texts, self.pending(), strict=True))

        def match_all(texts: list[str]) -> list[MatchResult]:
            missing = [t for t in dict.fromkeys(texts) if t not in ready]
            if missing:
                ready.update(zip(missing, matcher(missing), strict=True))
            return [ready[t] for t in texts]

        return match_all


def reading_connection(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any] | None:
    """Open a second connection to ``conn``'s database, for reads (autocommit).

    ``None`` when it cannot be opened: placement then reads on ``conn``, one chunk after
    another.
    """
    try:
        info = make_conninfo(conn.info.dsn, password=conn.info.password or None)
        return psycopg.connect(info, autocommit=True, connect_timeout=5)
    except psycopg.Error:
        return None


def place_table(
    conn: psycopg.Connection[Any],
    matcher: Matcher,
    table: Table,
    *,
    kind: str,
    source: str,
    actor: str,
    columns: Mapping[str, str | None] | None = None,
    crs: str = "EPSG:4326",
    start_row: int = 0,
    chunk_rows: int = CHUNK_ROWS,
    on_chunk: Callable[[list[PlaceResult]], None] | None = None,
    scope: Principal | None = None,
) -> PlaceSummary:
    """Place a table chunk by chunk, each chunk committed; start at data row ``start_row``.

    ``on_chunk`` gets each chunk's results after its commit (progress, the report). Record
    ids that repeat across chunks are caught too: a later row is invalid, naming the first.
    A transaction the caller left open (reads) is committed first: each chunk must be a
    transaction of its own, not a savepoint of one that might never be committed.

    The next chunk is prepared in a thread while one is stored (the database's work
    releases the interpreter): checked, its addresses matched meanwhile when ``matcher`` can
    ``submit`` texts (a :class:`geocode.pool.MatchPool`), and, for a table of more than one
    chunk, located and staged as COPY text on a second, reading connection
    (:func:`reading_connection`), so that the database writes one chunk while this process
    prepares the next. Chunks are stored in order on ``conn``, one transaction each.
    """
    if conn.info.transaction_status != TransactionStatus.IDLE:
        conn.commit()
    started = time.perf_counter()
    cols = resolve_columns(table.columns, kind, columns or {}, crs)
    summary = PlaceSummary()
    repo = PgPlacementRepository(conn)
    first_row: dict[str, int] = {}
    submit = getattr(matcher, "submit", None)
    reader = reading_connection(conn) if len(table.rows) - start_row > chunk_rows else None
    ahead_repo = PgPlacementRepository(reader) if reader is not None else None
    wgs84 = parse_crs(cols.crs_name) == WGS84

    #: Chunks checked and submitted to the pool before their turn (by the ahead thread only).
    submitted: dict[int, _Chunk] = {}

    def check(lo: int) -> _Chunk:
        hi = min(lo + chunk_rows, len(table.rows))
        problems = {i - lo: p for i, p in table.problems.items() if lo <= i < hi}
        checked = prepare_rows(table.columns, table.rows[lo:hi], cols, kind, problems, lo + 1)
        texts = list(dict.fromkeys(r.address for r in checked if r.address and not r.code))
        return _Chunk(lo, checked, texts, submit(texts) if submit and texts else None)

    def prepare(lo: int) -> _Chunk:
        chunk = submitted.pop(lo, None) or check(lo)
        checked = chunk.rows
        if ahead_repo is not None and reader is not None:
            following = lo + chunk_rows
            if submit is not None and following < len(table.rows):
                # The pool matches the chunk after this one while this one is located and
                # staged: it never waits for this thread.
                submitted[following] = check(following)
            _repeats_across_chunks(checked, first_row)  # chunks are prepared in order
            with reader.transaction():  # the reads of a chunk: one snapshot, temp tables
                if lo == start_row and wgs84:
                    chunk.hints = datum_hints(ahead_repo, checked)
                chunk.located = locate_checked(ahead_repo, chunk.matcher(matcher), checked,
                                               kind, source, scope)  # fmt: skip
            chunk.staged = stage_text(
                [(r, loc) for r, loc in zip(checked, chunk.located, strict=True) if r.is_valid]
            )
        return chunk

    starts = iter(range(start_row, len(table.rows), chunk_rows))
    with contextlib.closing(reader) if reader is not None else contextlib.nullcontext(), \
            ThreadPoolExecutor(1, thread_name_prefix="place-ahead") as ahead:  # fmt: skip

        def next_chunk() -> Future[_Chunk] | None:
            lo = next(starts, None)
            return None if lo is None else ahead.submit(prepare, lo)

        following = next_chunk()
        while following is not None:
            chunk = following.result()
            following = next_chunk()
            checked = chunk.rows
            if chunk.located is not None:
                summary.hints += chunk.hints
                with conn.transaction():
                    results = store_located(repo, checked, chunk.located, kind, source, actor,
                                            chunk.staged)  # fmt: skip
            else:
                _repeats_across_chunks(checked, first_row)
                with conn.transaction():  # the hint's reads too: nothing before it may open one
                    if chunk.start == start_row and wgs84:
                        summary.hints += datum_hints(repo, checked)
                    results = place_with(repo, chunk.matcher(matcher), checked, kind, source,
                                         actor, scope)  # fmt: skip
            summary.add(results)
            if on_chunk is not None:
                on_chunk(results)
    summary.seconds = time.perf_counter() - started
    return summary


#: Points a datum hint needs at least, and the share that must land in no building as given.
HINT_MIN_POINTS, HINT_MISSED_SHARE = 20, 0.5


def datum_hints(repo: PlacementRepository, rows: Sequence[PlaceInput]) -> list[str]:
    """Say when points given as WGS84 look like GCJ-02 or BD-09.

    Such points land a few hundred metres off: mostly in no building as given, mostly in
    buildings when read in the other datum.
    """
    pts = [(r.lon, r.lat) for r in rows if r.lon is not None and r.lat is not None]
    if len(pts) < HINT_MIN_POINTS:
        return []
    lon, lat = np.array(pts, dtype=np.float64).T

    def in_buildings(x: Any, y: Any) -> int:
        codes = repo.locate_xy(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        return sum(c is not None and len(c) == 19 for c in codes.tolist())

    as_given = in_buildings(lon, lat)
    if as_given >= HINT_MISSED_SHARE * len(pts):
        return []
    hints = []
    for name, convert in (("gcj02", gcj02_to_wgs84), ("bd09", bd09_to_wgs84)):
        read_so = in_buildings(*convert(lon, lat))
        if read_so >= 2 * max(as_given, 1) and read_so >= HINT_MISSED_SHARE * len(pts):
            hints.append(
                f"{len(pts) - as_given} of {len(pts)} points land in no building as WGS84, "
                f"but {read_so} do when read as {name}: were they {name}? Place again with "
                f"--crs {name}."
            )
    return hints


def _repeats_across_chunks(rows: Sequence[PlaceInput], first_row: dict[str, int]) -> None:
    for rec in rows:
        if rec.source_id is None or not rec.is_valid:
            continue
        seen = first_row.setdefault(rec.source_id, rec.row)
        if seen != rec.row:
            rec.errors.append(RowProblem("id", f"{rec.source_id!r} repeats row {seen}"))
