"""Builders of small block chains for tests: a district → street → community → grid square."""

from __future__ import annotations

from typing import Any

import psycopg

from shapely import Polygon

#: A 1 km square in Bao'an that every unit of the chain covers.
X0, Y0, D = 113.880, 22.560, 0.01
SQUARE = Polygon([(X0, Y0), (X0 + D, Y0), (X0 + D, Y0 + D), (X0, Y0 + D)])
DISTRICT, STREET, COMMUNITY, GRID = "440306", "440306017", "440306017001", "44030601700101"


def grid_strip(k: int, grids: int) -> Polygon:
    """The ``k``-th (from 0, west to east) of ``grids`` vertical strips of :data:`SQUARE`."""
    w = D / grids
    return Polygon(
        [(X0 + k * w, Y0), (X0 + (k + 1) * w, Y0), (X0 + (k + 1) * w, Y0 + D), (X0 + k * w, Y0 + D)]
    )


def grid_codes(grids: int) -> list[str]:
    """The codes of the grids :func:`seed_chain` inserts (the first is :data:`GRID`)."""
    return [f"{COMMUNITY}{k + 1:02d}" for k in range(grids)]


def seed_chain(conn: psycopg.Connection[Any], grids: int = 1) -> list[str]:
    """Insert the district, street and community covering :data:`SQUARE`, and its grids.

    With ``grids=1`` the one grid (:data:`GRID`) covers the square; with more, the grids are
    vertical strips of it, west to east. Returns the grid codes.
    """
    for code, level, parent in [
        (DISTRICT, "district", None),
        (STREET, "street", DISTRICT),
        (COMMUNITY, "community", STREET),
    ]:
        conn.execute(
            "INSERT INTO twin.admin_unit (code, level, name, parent_code, geom) VALUES "
            "(%s, %s, %s, %s, ST_Multi(ST_GeomFromText(%s, 4326)))",
            (code, level, f"单元{code}", parent, SQUARE.wkt),
        )
    codes = grid_codes(grids)
    for k, code in enumerate(codes):
        conn.execute(
            "INSERT INTO twin.admin_unit (code, level, name, parent_code, geom) VALUES "
            "(%s, 'grid', %s, %s, ST_Multi(ST_GeomFromText(%s, 4326)))",
            (code, f"单元{code}", COMMUNITY, grid_strip(k, grids).wkt),
        )
    return codes


def delete_chain(conn: psycopg.Connection[Any]) -> None:
    """Delete what :func:`seed_chain` and imports into it wrote (for tests that commit)."""
    conn.execute("SELECT set_config('twin.bulk', 'on', false)")
    conn.execute("DELETE FROM twin.building WHERE grid_code LIKE %s", (f"{COMMUNITY}%",))
    conn.execute("DELETE FROM twin.code_counter WHERE prefix LIKE %s", (f"{COMMUNITY}%",))
    conn.execute("DELETE FROM twin.road WHERE district_code = %s", (DISTRICT,))
    for level in ("grid", "community", "street", "district"):
        conn.execute(
            "DELETE FROM twin.admin_unit WHERE level = %s AND code LIKE %s", (level, f"{STREET}%")
        )
    conn.execute(
        "DELETE FROM twin.admin_unit AS d WHERE code = %(d)s AND NOT EXISTS "
        "(SELECT 1 FROM twin.admin_unit AS c WHERE c.parent_code = %(d)s)",
        {"d": DISTRICT},
    )


def seed_building(
    conn: psycopg.Connection[Any],
    serial: int = 1,
    floors: int = 12,
    at: tuple[float, float] | None = None,
) -> str:
    """Insert a building (and its floors and one room per floor) in the grid; return its code.

    Its 20 m square footprint's south-west corner is ``at`` (lon, lat), by default on a row
    from west to east, 0.001° apart (serials 1 to 9 fit in :data:`SQUARE`).
    """
    code = f"{GRID}{serial:05d}"
    x, y = at or (X0 + 0.001 * serial, Y0 + 0.001)
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
