"""Reading buildings, floors and rooms from the database (``twin`` schema) for the 3D models.

Aggregates come from ``twin.block_counts`` (people, companies and events per building code), and
the year built (0 when unknown) rides along, so the city model can colour buildings by them; the
package imports nothing but ``twin``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

import shapely

from models3d.buildings import BuildingTable
from models3d.errors import Model3dError

if TYPE_CHECKING:
    import psycopg

_BUILDINGS = """
SELECT b.code, ST_AsBinary(b.footprint), b.height_m, b.floors, coalesce(b.use, ''),
       coalesce(c.people, 0), coalesce(c.companies, 0), coalesce(c.events, 0),
       coalesce(b.built_year, 0)
FROM twin.building AS b
LEFT JOIN twin.block_counts AS c ON c.code = b.code
ORDER BY b.code
"""
_BATCH = 50_000


def buildings_from_db(conn: psycopg.Connection[Any]) -> BuildingTable:
    """Every building of the database with its people, companies and events counts.

    Parameters
    ----------
    conn
        An open connection to a migrated citytwin database.

    Returns
    -------
    BuildingTable
        One row per building, ordered by code.
    """
    rows: list[tuple[Any, ...]] = []
    with conn.cursor(name="models3d_buildings") as cur:
        cur.itersize = _BATCH
        cur.execute(_BUILDINGS)
        for row in cur:
            rows.append(row)
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in range(9)]
    n = len(rows)
    return BuildingTable(
        codes=np.array(cols[0], dtype=str),
        footprints=shapely.from_wkb(np.array(cols[1], dtype=object))
        if n
        else np.array([], dtype=object),
        height_m=np.array(cols[2], dtype=np.float64),
        floors=np.array(cols[3], dtype=np.int32),
        uses=np.array(cols[4], dtype=str),
        base_m=np.zeros(n),
        extra={
            "people": np.array(cols[5], dtype=np.int64),
            "companies": np.array(cols[6], dtype=np.int64),
            "events": np.array(cols[7], dtype=np.int64),
            "built_year": np.array(cols[8], dtype=np.int64),
        },
    )


@dataclass(frozen=True)
class RoomRow:
    """One room of a building (as stored)."""

    code: str
    floor_no: int
    unit_no: str
    room_no: str
    use: str
    area_m2: float | None


@dataclass(frozen=True)
class FloorRow:
    """One floor of a building: number, elevation and height (m) when known."""

    floor_no: int
    elevation_m: float | None
    height_m: float | None


@dataclass(frozen=True)
class BuildingInterior:
    """A building with its floors and rooms, as stored."""

    code: str
    footprint: Any
    height_m: float
    floors: int
    basement_floors: int
    floor_rows: list[FloorRow]
    rooms: list[RoomRow]


def interior_from_db(conn: psycopg.Connection[Any], code: str) -> BuildingInterior:
    """One building's footprint, floors and rooms.

    Raises
    ------
    Model3dError
        When there is no building with that code.
    """
    row = conn.execute(
        "SELECT ST_AsBinary(footprint), height_m, floors, basement_floors "
        "FROM twin.building WHERE code = %s",
        (code,),
    ).fetchone()
    if row is None:
        raise Model3dError(f"there is no building {code}: check the 19-digit building code")
    floors = conn.execute(
        "SELECT floor_no, elevation_m, height_m FROM twin.floor WHERE building_code = %s "
        "ORDER BY floor_no",
        (code,),
    ).fetchall()
    rooms = conn.execute(
        "SELECT code, floor_no, coalesce(unit_no, ''), room_no, coalesce(use, ''), area_m2 "
        "FROM twin.room WHERE building_code = %s ORDER BY floor_no, unit_no, room_no, code",
        (code,),
    ).fetchall()
    return BuildingInterior(
        code=code,
        footprint=shapely.from_wkb(bytes(row[0])),
        height_m=float(row[1]),
        floors=int(row[2]),
        basement_floors=int(row[3]),
        floor_rows=[FloorRow(int(f[0]), f[1], f[2]) for f in floors],
        rooms=[RoomRow(r[0], int(r[1]), r[2], r[3], r[4], r[5]) for r in rooms],
    )
