"""A generated street for the placement tests, and table files made of its records."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:
    from pathlib import Path

DISTRICT, STREET = "440306", "440306017"


def truth(conninfo: str, kind: str, n: int) -> list[dict[str, Any]]:
    """``n`` generated records of a kind (person, legal_entity, event) with their true path."""
    with psycopg.connect(conninfo) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "SELECT source_id, messy_address, address_code, room_code, building_code, grid_code, "
            "community_code FROM twin.synth_truth WHERE record_kind = %s "
            "ORDER BY source_id LIMIT %s",
            (kind, n),
        ).fetchall()


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    """Write a UTF-8 CSV file."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path
