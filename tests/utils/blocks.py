"""Builders of small block chains for tests: a district → street → community → grid square."""

from __future__ import annotations

from typing import Any

import psycopg

from shapely import Polygon

#: A 1 km square in Bao'an that every unit of the chain covers.
X0, Y0, D = 113.880, 22.560, 0.01
SQUARE = Polygon([(X0, Y0), (X0 + D, Y0), (X0 + D, Y0 + D), (X0, Y0 + D)])
DISTRICT, STREET, COMMUNITY, GRID = "440306", "440306017", "440306017001", "44030601700101"


def seed_chain(conn: psycopg.Connection[Any]) -> None:
    """Insert the district, street, community and grid, each covering :data:`SQUARE`."""
    for code, level, parent in [
        (DISTRICT, "district", None),
        (STREET, "street", DISTRICT),
        (COMMUNITY, "community", STREET),
        (GRID, "grid", COMMUNITY),
    ]:
        conn.execute(
            "INSERT INTO twin.admin_unit (code, level, name, parent_code, geom) VALUES "
            "(%s, %s, %s, %s, ST_Multi(ST_GeomFromText(%s, 4326)))",
            (code, level, f"单元{code}", parent, SQUARE.wkt),
        )


def seed_building(conn: psycopg.Connection[Any], serial: int = 1, floors: int = 12) -> str:
    """Insert a building (and its floors and one room per floor) in the grid; return its code."""
    code = f"{GRID}{serial:05d}"
    x, y = X0 + 0.001 * serial, Y0 + 0.001
    box = Polygon([(x, y), (x + 0.0002, y), (x + 0.0002, y + 0.0002), (x, y + 0.0002)])
    conn.execute(
        "INSERT INTO twin.building (code, grid_code, footprint, floors, height_m) "
        "VALUES (%s, %s, ST_Multi(ST_GeomFromText(%s, 4326)), %s, %s)",
        (code, GRID, box.wkt, floors, floors * 3.0),
    )
    for floor in range(1, floors + 1):
        conn.execute(
            "INSERT INTO twin.floor (building_code, floor_no) VALUES (%s, %s)", (code, floor)
        )
        conn.execute(
            "INSERT INTO twin.room (code, building_code, floor_no, room_no) "
            "VALUES (%s, %s, %s, %s)",
            (f"{code}{floor:06d}", code, floor, f"{floor}01"),
        )
    return code
