"""Storage of placements: the :class:`PlacementRepository` protocol and its PostGIS implementation.

The repository receives an open connection and never reads settings or commits: the caller
owns the transaction (one per batch, so a batch is stored whole or not at all).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

import psycopg
from psycopg import sql

from blocks.errors import BlockStoreError
from blocks.placement.model import RECORD_KINDS, BlockPath
from blocks.placement.points import PointLocator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from blocks.placement.model import Located, PlaceInput

#: The record upsert of each kind (``sql/upsert_<kind>.sql``).
_UPSERT = {"person": "upsert_person.sql", "company": "upsert_company.sql",
           "event": "upsert_event.sql"}  # fmt: skip
#: Rows of a batch from which row triggers (foreign-key checks, the row audit) are skipped
#: where the role may: the paths come from the database, the counts triggers run ALWAYS.
BULK_ROWS = 1_000
#: Points in one batch from which polygons are read into memory instead of queried per point.
IN_MEMORY_FROM = 2_000
_STAGE_COLUMNS = (
    "row_no, source_id, record, lon, lat, district_code, street_code, community_code, "
    "grid_code, building_code, floor_no, room_code, address_code, method, confidence, band, "
    "input, facets, warnings, record_id"
)


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

    def locate_points(self, points: Sequence[tuple[int, float, float]]) -> dict[int, str]:
        """Return the finest block code each ``(row, lon, lat)`` (WGS84) falls in, by row."""
        ...

    def placed(self, kind: str, source: str, ids: Sequence[str]) -> dict[str, BlockPath]:
        """Return where records of a source are placed now, by record id."""
        ...

    def write(
        self, kind: str, source: str, actor: str, rows: Sequence[tuple[PlaceInput, Located]]
    ) -> list[Stored]:
        """Upsert the records and their placements; return what is stored, by row."""
        ...


def _path_row(r: Sequence[Any]) -> BlockPath:
    return BlockPath(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])


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

    def locate_points(self, points: Sequence[tuple[int, float, float]]) -> dict[int, str]:
        """Return the finest block code of each point by row (none outside every unit).

        Batches of :attr:`in_memory_from` points or more are answered in memory
        (:class:`~blocks.placement.points.PointLocator`, loaded once per repository), smaller
        ones by one query; both follow the same rule.
        """
        if not points:
            return {}
        if len(points) >= self.in_memory_from:
            if self._locator is None:
                self._locator = PointLocator(self.conn)
            return self._locator.locate(points)
        conn = self.conn
        conn.execute("DROP TABLE IF EXISTS pg_temp.place_points")
        conn.execute("CREATE TEMP TABLE place_points (row_no integer, x float8, y float8, "
                     "geom geometry(Point, 4326) GENERATED ALWAYS AS "
                     "(ST_SetSRID(ST_MakePoint(x, y), 4326)) STORED) ON COMMIT DROP")  # fmt: skip
        with conn.cursor().copy("COPY place_points (row_no, x, y) FROM STDIN") as copy:
            for row in points:
                copy.write_row(row)
        found = conn.execute(sql_text("points.sql")).fetchall()
        conn.execute("DROP TABLE pg_temp.place_points")
        return {row: code for row, code in found if code is not None}

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

    def _stage(self, rows: Sequence[tuple[PlaceInput, Located]]) -> None:
        conn = self.conn
        conn.execute("DROP TABLE IF EXISTS pg_temp.place_stage")
        conn.execute(sql_text("stage.sql"))
        with conn.cursor().copy(f"COPY place_stage ({_STAGE_COLUMNS}) FROM STDIN") as copy:
            for rec, loc in rows:
                p = loc.path
                copy.write_row((
                    rec.row, rec.source_id, json.dumps(rec.fields, ensure_ascii=False),
                    rec.lon, rec.lat, p.district, p.street, p.community, p.grid, p.building,
                    p.floor_no, p.room, p.address_code, loc.method, loc.confidence, loc.band,
                    json.dumps(rec.input_json(), ensure_ascii=False), rec.facets,
                    [f"{w.field}: {w.message}" for w in rec.warnings],
                    None,
                ))  # fmt: skip

    def write(
        self, kind: str, source: str, actor: str, rows: Sequence[tuple[PlaceInput, Located]]
    ) -> list[Stored]:
        """Upsert the records and their placements in the caller's transaction.

        The row audit of placements is replaced by one summary row (``twin.bulk``); the
        count triggers run once per statement. Batches of :data:`BULK_ROWS` rows or more skip
        the row triggers (``session_replication_role = replica``, where the role may): the
        block paths were read from the database by this batch; the count and tile triggers
        are ``ENABLE ALWAYS`` (0011) and still run.

        Raises
        ------
        BlockStoreError
            When the database refuses the batch (with its first line).
        """
        if not rows:
            return []
        params = {"source": source, "actor": actor, "record_kind": RECORD_KINDS[kind]}
        conn = self.conn
        try:
            conn.execute("SELECT set_config('twin.bulk', 'on', true)")
            if len(rows) >= BULK_ROWS and self._may_skip_row_triggers():
                conn.execute("SELECT set_config('session_replication_role', 'replica', true)")
            self._stage(rows)
            conn.execute(sql_text(_UPSERT[kind]), params)
            for name in ("upsert_placement.sql", "refresh_facets.sql", "audit.sql"):
                conn.execute(sql_text(name), params)
            stored = conn.execute(sql_text("stored.sql"), params).fetchall()
            conn.execute("DROP TABLE pg_temp.place_stage")
            conn.execute("SELECT set_config('twin.bulk', 'off', true)")
            conn.execute("SELECT set_config('session_replication_role', 'origin', true)")
        except psycopg.errors.DataError as exc:
            raise BlockStoreError(f"placing {len(rows)} {kind} records: {exc}") from exc
        return [Stored(r[0], r[1], r[2], _path_row(r[3:11]), r[11], r[12], r[13]) for r in stored]
