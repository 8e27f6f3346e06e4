"""A generated street for the placement tests, and table files made of its records."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING, Any

import psycopg

from twin.crs import wgs84_to_gcj02

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


#: The columns of an event file placed by its points.
EVENT_HEADER = ["id", "事件类型", "发生时间", "lon", "lat"]


def datum_events(conninfo: str, n: int) -> tuple[list[list[Any]], list[list[Any]]]:
    """Events at ``n`` buildings' points: given in GCJ-02 (ids g…) and in WGS84 (ids w…)."""
    with psycopg.connect(conninfo) as conn:
        inside = conn.execute(
            "SELECT ST_X(ST_PointOnSurface(footprint)), ST_Y(ST_PointOnSurface(footprint)) "
            "FROM twin.building ORDER BY code LIMIT %s",
            (n,),
        ).fetchall()
    gx, gy = wgs84_to_gcj02([p[0] for p in inside], [p[1] for p in inside])
    pairs = zip(gx, gy, strict=True)
    shifted = [[f"g{i}", "噪音扰民", "2025-06-01", x, y] for i, (x, y) in enumerate(pairs)]
    right = [[f"w{i}", "噪音扰民", "2025-06-01", x, y] for i, (x, y) in enumerate(inside)]
    return shifted, right
