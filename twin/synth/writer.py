"""Stream rows into PostGIS with COPY (text format), table by table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    import psycopg

COLUMNS: dict[str, tuple[str, ...]] = {
    "twin.building": (
        "code",
        "grid_code",
        "name",
        "compound_id",
        "footprint",
        "floors",
        "height_m",
        "use",
        "is_generated",
        "source",
    ),
    "twin.floor": ("building_code", "floor_no"),
    "twin.room": ("code", "building_code", "floor_no", "unit_no", "room_no"),
    "twin.address": (
        "code",
        "level",
        "text",
        "parent_code",
        "district_code",
        "street_code",
        "community_code",
        "grid_code",
        "road_id",
        "door_no",
        "compound_id",
        "building_code",
        "unit_no",
        "floor_no",
        "room_code",
        "geom",
        "status",
        "is_generated",
        "created_by",
    ),
    "twin.address_alias": ("address_code", "text", "kind", "source"),
    "twin.person": (
        "source",
        "source_id",
        "name",
        "id_number",
        "phone",
        "gender",
        "birth_date",
        "residence_kind",
        "registered_address",
        "residence_address",
        "is_generated",
    ),
    "twin.legal_entity": (
        "source",
        "source_id",
        "uscc",
        "name",
        "kind",
        "industry",
        "registered_address",
        "business_address",
        "is_generated",
    ),
    "twin.event": (
        "source",
        "source_id",
        "event_type",
        "occurred_at",
        "description",
        "address_text",
        "geom",
        "is_generated",
    ),
    "twin.synth_truth": (
        "run_key",
        "record_kind",
        "source_id",
        "messy_address",
        "noise",
        "address_code",
        "level",
        "room_code",
        "building_code",
        "grid_code",
        "community_code",
        "street_code",
        "district_code",
    ),
}


def copy_rows(conn: psycopg.Connection[Any], table: str, rows: Iterable[tuple[Any, ...]]) -> int:
    """COPY rows into one of the tables above; return how many were written."""
    cols = ", ".join(COLUMNS[table])
    n = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n
