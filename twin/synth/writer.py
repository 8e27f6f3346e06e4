"""Stream generated rows into PostGIS with COPY, in bounded memory.

Rows are buffered per table and copied in dependency order (compounds before buildings,
buildings before floors, floors before rooms, rooms before their addresses...) whenever the
buffers hold :data:`FLUSH_ROWS` rows, and at the end of each community. Geometries are WGS84
hex EWKB, JSON is text: both are what ``COPY ... FROM STDIN`` (text format) reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

Row = tuple[Any, ...]

#: Rows buffered before a flush: bounds memory whatever the size of a community.
FLUSH_ROWS = 50_000

#: Columns written per table, in the order the tables are flushed.
COLUMNS: dict[str, tuple[str, ...]] = {
    "twin.admin_unit": (
        "code", "level", "name", "parent_code", "geom", "is_generated", "source", "attrs",
    ),
    "twin.road": (
        "id", "name", "road_class", "district_code", "geom", "is_generated", "source", "attrs",
    ),
    "twin.compound": (
        "id", "name", "kind", "community_code", "geom", "is_generated", "source", "attrs",
    ),
    "twin.building": (
        "code", "grid_code", "name", "compound_id", "footprint", "floors", "basement_floors",
        "height_m", "use", "built_year", "is_generated", "source", "attrs",
    ),
    "twin.floor": ("building_code", "floor_no", "label", "elevation_m", "height_m"),
    "twin.room": ("code", "building_code", "floor_no", "unit_no", "room_no", "use", "area_m2"),
    "twin.address": (
        "code", "level", "text", "parent_code", "district_code", "street_code",
        "community_code", "grid_code", "road_id", "door_no", "compound_id", "building_code",
        "unit_no", "floor_no", "room_code", "elements", "geom", "status", "is_generated",
        "created_by",
    ),
    "twin.address_alias": ("id", "address_code", "text", "kind", "source", "created_by"),
    "twin.person": (
        "id", "source", "source_id", "name", "id_number", "phone", "gender", "birth_date",
        "residence_kind", "registered_address", "residence_address", "is_generated",
    ),
    "twin.legal_entity": (
        "id", "source", "source_id", "uscc", "name", "kind", "industry", "registered_address",
        "business_address", "is_generated",
    ),
    "twin.event": (
        "id", "source", "source_id", "event_type", "occurred_at", "status", "description",
        "address_text", "geom", "is_generated",
    ),
    "twin.synth_truth": (
        "run_key", "record_kind", "source_id", "messy_address", "noise", "address_code",
        "level", "room_code", "building_code", "grid_code", "community_code", "street_code",
        "district_code",
    ),
}  # fmt: skip


def copy_rows(conn: psycopg.Connection[Any], table: str, rows: list[Row]) -> int:
    """COPY rows into one of the tables of :data:`COLUMNS`; return how many were written.

    Identity columns (``id``) take the given values: COPY writes them as ``INSERT ...
    OVERRIDING SYSTEM VALUE`` would.
    """
    if not rows:
        return 0
    cols = ", ".join(COLUMNS[table])
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows)


class Sink:
    """Buffers of rows per table, flushed with COPY in dependency order.

    With no connection the sink only keeps the rows (tests, dry runs).
    """

    def __init__(self, conn: psycopg.Connection[Any] | None, limit: int = FLUSH_ROWS) -> None:
        self.conn = conn
        self.limit = limit
        self.buffers: dict[str, list[Row]] = {t: [] for t in COLUMNS}
        self.written: dict[str, int] = {}
        self._pending = 0

    def add(self, table: str, row: Row) -> None:
        """Buffer one row."""
        self.buffers[table].append(row)
        self._pending += 1
        if self._pending >= self.limit and self.conn is not None:
            self.flush()

    def extend(self, table: str, rows: list[Row]) -> None:
        """Buffer many rows."""
        self.buffers[table].extend(rows)
        self._pending += len(rows)
        if self._pending >= self.limit and self.conn is not None:
            self.flush()

    def flush(self) -> None:
        """COPY every buffered row, table by table in dependency order."""
        if self.conn is None:
            return
        for table, rows in self.buffers.items():
            if rows:
                self.written[table] = self.written.get(table, 0) + copy_rows(self.conn, table, rows)
                rows.clear()
        self._pending = 0
