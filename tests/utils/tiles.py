"""A small hand-made city for tile tests: one square district down to a grid, and buildings."""

from __future__ import annotations

from typing import Any

import psycopg

GRID = "44030600100101"
#: The square's south-west corner (Bao'an) and side (degrees).
CX, CY, SIDE = 113.885, 22.555, 0.01
#: A building's side (degrees, about 30 m).
BUILDING_SIDE = 0.0003


def square(lon: float, lat: float, d: float) -> str:
    """Return a square MultiPolygon as WKT, its south-west corner at lon, lat."""
    ring = f"{lon} {lat}, {lon + d} {lat}, {lon + d} {lat + d}, {lon} {lat + d}, {lon} {lat}"
    return f"MULTIPOLYGON((({ring})))"


def add_units(conn: psycopg.Connection[Any]) -> None:
    """Add a district, street, community and grid, all the same square."""
    for code in (GRID[:6], GRID[:9], GRID[:12], GRID):
        level = {6: "district", 9: "street", 12: "community", 14: "grid"}[len(code)]
        parent = {6: None, 9: code[:6], 12: code[:9], 14: code[:12]}[len(code)]
        conn.execute(
            "INSERT INTO twin.admin_unit (code, level, name, parent_code, geom) "
            "VALUES (%s, %s, %s, %s, ST_GeomFromText(%s, 4326))",
            (code, level, f"单元{code}", parent, square(CX, CY, SIDE)),
        )


def add_building(conn: psycopg.Connection[Any], serial: int, lon: float, lat: float) -> str:
    """Add a building of the grid with its south-west corner at lon, lat; return its code."""
    code = f"{GRID}{serial:05d}"
    conn.execute(
        "INSERT INTO twin.building (code, grid_code, name, footprint, floors, height_m, use) "
        "VALUES (%s, %s, %s, ST_GeomFromText(%s, 4326), 10, 30, 'residential')",
        (code, GRID, f"{serial}栋", square(lon, lat, BUILDING_SIDE)),
    )
    return code
