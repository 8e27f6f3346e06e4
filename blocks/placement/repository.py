"""Storage of placements: the :class:`PlacementRepository` protocol and its PostGIS implementation.

The repository receives an open connection and never reads settings or commits: the caller
owns the transaction (one per batch, so a batch is stored whole or not at all).
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import psycopg
from psycopg import sql

from blocks.errors import BlockStoreError
from blocks.placement.model import RECORD_KINDS, BlockPath
from blocks.placement.points import PointLocator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from blocks.placement.model import Located, PlaceInput

#: The record upsert of each kind (``sql/upsert_<kind>.sql``), the head of a batch's statement.
_UPSERT = {"person": "upsert_person.sql", "company": "upsert_company.sql",
           "event": "upsert_event.sql"}  # fmt: skip
#: Rows of a batch from which row triggers (foreign-key checks, the row audit) are skipped
#: where the role may: the paths come from the database, the counts triggers run ALWAYS.
BULK_ROWS = 1_000
#: Errors that mean a concurrent writer got in the way: the write is worth trying again.
CLASHES = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
#: Tries of one write before a clash is the caller's error.
WRITE_ATTEMPTS = 5
#: Points in one batch from which polygons are read into memory instead of queried per point.
IN_MEMORY_FROM = 2_000
logger = logging.getLogger(__name__)
_STAGE_COLUMNS = (
    "row_no, source_id, record, lon, lat, district_code, street_code, community_code, "
    "grid_code, building_code, floor_no, room_code, address_code, method, confidence, band, "
    "input, facets, warnings"
)
#: JSON as the stage takes it (one encoder for every row: ``json.dumps`` builds one per call).
_JSON = json.JSONEncoder(ensure_ascii=False).encode


@cache
def sql_text(name: str) -> str:
    """Return the text of ``blocks/placement/sql/<name>``."""
    return resources.files("blocks.placement").joinpath("sql", name).read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class CodePath:
    """What a code names: its path, its life-cycle status and successors (addresses)."""

    path: BlockPath
    status: str
    successors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Stored:
    """What the store holds for one written row."""

    row: int
    record_id: int
    placement_id: int
    path: BlockPath
    method: str
    confidence: float
    band: str


class PlacementRepository(Protocol):
    """Where block paths are looked up and placements are kept."""

    def paths(self, codes: Sequence[str]) -> dict[str, CodePath]:
        """Return the path of each known code (addresses, rooms, buildings, units)."""
        ...

    def locate_xy(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[Any]:
        """Return the finest block code each WGS84 point falls in (``None`` outside), aligned."""
        ...

    def placed(self, kind: str, source: str, ids: Sequence[str]) -> dict[str, BlockPath]:
        """Return where records of a source are placed now, by record id."""
        ...

    def write(
        self,
        kind: str,
        source: str,
        actor: str,
        rows: Sequence[tuple[PlaceInput, Located]],
        staged: str | None = None,
    ) -> list[Stored]:
        """Upsert the records and their placements; return what is stored, by row.

        ``staged``: the rows' :func:`stage_text`, when it was made ahead.
        """
        ...


#: COPY's text format: these four characters are written escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


def copy_text(value: object) -> str:
    r"""Return one field of a line of COPY text: ``\N`` for ``None``, else the text escaped.

    Examples
    --------
    >>> copy_text(None), copy_text("a\tb\\c"), copy_text(1.5)
    ('\\N', 'a\\tb\\\\c', '1.5')
    """
    if value is None:
        return "\\N"
    text = str(value)
    return text.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def copy_array(items: Sequence[str]) -> str:
    r"""Return a text array as one field of a line of COPY text.

    Examples
    --------
    >>> copy_array(["type:噪音", 'a "b"'])
    '{"type:噪音","a \\\\"b\\\\""}'
    """
    quoted = ('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in items)
    return copy_text("{" + ",".join(quoted) + "}")


def _code(value: str | int | None) -> str:
    """Return a block code or floor number (digits: nothing to escape) as COPY text."""
    return "\\N" if value is None else str(value)


def _stage_line(rec: PlaceInput, loc: Located) -> str:
    """One staged row as a line of COPY text (one write per batch, not one per row)."""
    p = loc.path
    fields = (
        str(rec.row), copy_text(rec.source_id), copy_text(_JSON(rec.fields)),
        copy_text(rec.lon), copy_text(rec.lat), _code(p.district), _code(p.street),
        _code(p.community), _code(p.grid), _code(p.building), _code(p.floor_no),
        _code(p.room), copy_text(p.address_code), loc.method, repr(float(loc.confidence)),
        loc.band, copy_text(_JSON(rec.input_json())), copy_array(rec.facets),
        copy_array([f"{w.field}: {w.message}" for w in rec.warnings]) if rec.warnings else "{}",
    )  # fmt: skip
    return "\t".join(fields) + "\n"


def stage_text(rows: Sequence[tuple[PlaceInput, Located]]) -> str:
    """Return the COPY text of a batch's stage (``sql/stage.sql``): one line per row."""
    return "".join(_stage_line(rec, loc) for rec, loc in rows)


def _path_row(r: Sequence[Any]) -> BlockPath:
    return _path_of(tuple(r[:8]))


@lru_cache(maxsize=1 << 16)
def _path_of(r: tuple[Any, ...]) -> BlockPath:
    """One object per distinct path (a batch's records share buildings and rooms)."""
    return BlockPath(*r)


class PgPlacementRepository:
    """:class:`PlacementRepository` in PostGIS (``twin.placement`` and the record tables)."""

    def __init__(self, conn: psycopg.Connection[Any], in_memory_from: int = IN_MEMORY_FROM) -> None:
        self.conn = conn
        self.in_memory_from = in_memory_from
        self._locator: PointLocator | None = None

    def paths(self, codes: Sequence[str]) -> dict[str, CodePath]:
        """Return the path of each known code; unknown codes are left out."""
        if not codes:
            return {}
        rows = self.conn.execute(sql_text("paths.sql"), {"codes": list(codes)}).fetchall()
        return {r[0]: CodePath(_path_row(r[3:]), r[1], tuple(r[2] or ())) for r in rows}

    def locate_xy(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[Any]:
        """Return the finest block code of each point (``None`` outside every unit), aligned.

        Batches of :attr:`in_memory_from` points or more are answered in memory
        (:class:`~blocks.placement.points.PointLocator`, loaded once per repository), smaller
        ones by one query; both follow the same rule.
        """
        out = np.full(len(lon), None, dtype=object)
        if not len(lon):
            return out
        if len(lon) >= self.in_memory_from:
            if self._locator is None:
                self._locator = PointLocator(self.conn)
            return self._locator.locate_xy(np.column_stack([lon, lat]).astype(np.float64))
        conn = self.conn
        conn.execute("DROP TABLE IF EXISTS pg_temp.place_points")
        conn.execute("CREATE TEMP TABLE place_points (row_no integer, x float8, y float8, "
                     "geom geometry(Point, 4326) GENERATED ALWAYS AS "
                     "(ST_SetSRID(ST_MakePoint(x, y), 4326)) STORED) ON COMMIT DROP")  # fmt: skip
        pairs = zip(lon.tolist(), lat.tolist(), strict=True)
        lines = (f"{i}\t{x!r}\t{y!r}\n" for i, (x, y) in enumerate(pairs))
        with conn.cursor().copy("COPY place_points (row_no, x, y) FROM STDIN") as copy:
            copy.write("".join(lines))
        for i, code in conn.execute(sql_text("points.sql")).fetchall():
            out[i] = code
        conn.execute("DROP TABLE pg_temp.place_points")
        return out

    def placed(self, kind: str, source: str, ids: Sequence[str]) -> dict[str, BlockPath]:
        """Return where records of a source are placed now, by record id."""
        if not ids:
            return {}
        table = {"person": "person", "company": "legal_entity", "event": "event"}[kind]
        rows = self.conn.execute(
            sql.SQL(
                "SELECT r.source_id, p.district_code, p.street_code, p.community_code, "
                "p.grid_code, p.building_code, p.floor_no, p.room_code, p.address_code "
                "FROM twin.{} AS r JOIN twin.placement AS p ON p.record_kind = %s "
                "AND p.record_id = r.id AND p.role = 'primary' "
                "WHERE r.source = %s AND r.source_id = ANY(%s)"
            ).format(sql.Identifier(table)),
            (RECORD_KINDS[kind], source, list(ids)),
        ).fetchall()
        return {r[0]: _path_row(r[1:]) for r in rows}

    def _may_skip_row_triggers(self) -> bool:
        row = self.conn.execute(
            "SELECT has_parameter_privilege('session_replication_role', 'SET')"
        ).fetchone()
        return bool(row and row[0])

    def _stage(self, text: str) -> None:
        conn = self.conn
        conn.execute("DROP TABLE IF EXISTS pg_temp.place_stage")
        conn.execute(sql_text("stage.sql"))
        with conn.cursor().copy(f"COPY place_stage ({_STAGE_COLUMNS}) FROM STDIN") as copy:
            copy.write(text)

    def write(
        self,
        kind: str,
        source: str,
        actor: str,
        rows: Sequence[tuple[PlaceInput, Located]],
        staged: str | None = None,
    ) -> list[Stored]:
        """Upsert the records and their placements in the caller's transaction.

        The write runs in a savepoint: when a concurrent writer gets in the way (a deadlock
        the server broke by aborting this write, or a serialization failure), the savepoint
        is rolled back, which releases what the write locked, and the write is tried again,
        up to :data:`WRITE_ATTEMPTS` times. The caller's transaction stays usable.

        The rows are staged by one COPY; then one statement (:func:`write_statement`)
        upserts the records and the placements, writes the audit summary and returns what
        is stored: the count triggers run once per batch. The row audit of placements is
        replaced by that summary row (``twin.bulk``). Batches of :data:`BULK_ROWS` rows or
        more skip the row triggers (``session_replication_role = replica``, where the role
        may): the block paths were read from the database by this batch; the count and tile
        triggers are ``ENABLE ALWAYS`` (0011) and still run.

        Raises
        ------
        BlockStoreError
            When the database refuses the batch (with its first line).
        """
        if not rows:
            return []
        text = stage_text(rows) if staged is None else staged
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            self.conn.execute("SAVEPOINT twin_place_write")
            try:
                stored = self._write_once(kind, source, actor, len(rows), text)
            except CLASHES as exc:
                self.conn.execute("ROLLBACK TO SAVEPOINT twin_place_write")
                if attempt == WRITE_ATTEMPTS:
                    raise BlockStoreError(
                        f"placing {len(rows)} {kind} records: concurrent writers clashed "
                        f"{attempt} times: {str(exc).splitlines()[0]}"
                    ) from exc
                logger.info("placement write attempt %d clashed, retrying: %s", attempt,
                            str(exc).splitlines()[0])  # fmt: skip
                time.sleep(random.uniform(0.05, 0.2) * attempt)  # jitter: retries spread out
                continue
            self.conn.execute("RELEASE SAVEPOINT twin_place_write")
            return stored
        raise AssertionError("unreachable")  # pragma: no cover

    def _write_once(self, kind: str, source: str, actor: str, n: int, text: str) -> list[Stored]:
        params = {"source": source, "actor": actor, "record_kind": RECORD_KINDS[kind]}
        conn = self.conn
        try:
            conn.execute("SELECT set_config('twin.bulk', 'on', true)")
            if n >= BULK_ROWS and self._may_skip_row_triggers():
                conn.execute("SELECT set_config('session_replication_role', 'replica', true)")
            self._stage(text)
            stored = conn.execute(write_statement(kind), params).fetchall()
            conn.execute("DROP TABLE pg_temp.place_stage; "
                         "SELECT set_config('twin.bulk', 'off', true), "
                         "set_config('session_replication_role', 'origin', true)")  # fmt: skip
        except psycopg.errors.DataError as exc:
            raise BlockStoreError(f"placing {n} {kind} records: {exc}") from exc
        return [Stored(r[0], r[1], r[2], _path_row(r[3:11]), r[11], r[12], r[13]) for r in stored]


@cache
def write_statement(kind: str) -> str:
    """Return the one statement that stores a staged batch of ``kind``.

    The record upsert (``upsert_<kind>.sql``) as ``rec``, then ``write.sql``.
    """
    return f"WITH rec AS (\n{sql_text(_UPSERT[kind])}),\n{sql_text('write.sql')}"
