"""Linking a BIM model to the twin: IfcBuildingStorey → floor, IfcSpace → room (room code).

Storeys get floor numbers by elevation (:func:`models3d.ifc.reader.floor_numbers`). On each
floor, a space whose name or long name equals a room's number takes that room; the others take
the remaining rooms in order (spaces by name, rooms by unit and number). The links are stored in
``twin.bim_link`` (one row per storey and space of a model), replacing the model's old links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models3d.errors import Model3dError
from models3d.ifc.reader import floor_numbers

if TYPE_CHECKING:
    import psycopg

    from models3d.ifc.reader import Space, Storey


@dataclass(frozen=True)
class Room:
    """A stored room: code, floor, unit and number."""

    code: str
    floor_no: int
    unit_no: str
    room_no: str


def match_rooms(storeys: list[Storey], spaces: list[Space], rooms: list[Room]) -> dict[str, str]:
    """Room codes by IfcSpace GlobalId (see the module's description).

    Examples
    --------
    >>> from models3d.ifc.reader import Space, Storey
    >>> s = [Storey("S1", "EG", 0.0)]
    >>> sp = [Space("A", "102", "", "S1"), Space("B", "x", "", "S1")]
    >>> r = [Room("R1", 1, "", "101"), Room("R2", 1, "", "102")]
    >>> match_rooms(s, sp, r)
    {'A': 'R2', 'B': 'R1'}
    """
    floors = floor_numbers(storeys)
    out: dict[str, str] = {}
    for floor in sorted(set(floors.values())):
        here = sorted(
            (s for s in spaces if floors.get(s.storey_id) == floor),
            key=lambda s: (s.name, s.long_name, s.global_id),
        )
        free = sorted(
            (r for r in rooms if r.floor_no == floor), key=lambda r: (r.unit_no, r.room_no)
        )
        by_no = {r.room_no.strip(): r for r in free}
        for space in here:
            room = by_no.get(space.name.strip()) or by_no.get(space.long_name.strip())
            if room is not None and room in free:
                out[space.global_id] = room.code
                free.remove(room)
        for space in (s for s in here if s.global_id not in out):
            if not free:
                break
            out[space.global_id] = free.pop(0).code
    return out


def link_building(
    conn: psycopg.Connection[Any],
    model: str,
    building: str,
    storeys: list[Storey],
    spaces: list[Space],
) -> dict[str, str]:
    """Match a model's storeys and spaces to a building's floors and rooms, and store the links.

    Raises
    ------
    Model3dError
        When the building does not exist.
    """
    if conn.execute("SELECT 1 FROM twin.building WHERE code = %s", (building,)).fetchone() is None:
        raise Model3dError(f"there is no building {building}: check --building (19 digits)")
    rows = conn.execute(
        "SELECT code, floor_no, coalesce(unit_no, ''), room_no FROM twin.room "
        "WHERE building_code = %s",
        (building,),
    ).fetchall()
    codes = match_rooms(storeys, spaces, [Room(*r) for r in rows])
    floors = floor_numbers(storeys)
    storey_rows: list[tuple[str, str, str, str, str, int | None, str | None]] = [
        (model, s.global_id, "IfcBuildingStorey", s.name, building, floors[s.global_id], None)
        for s in storeys
    ]
    space_rows = [
        (
            model,
            s.global_id,
            "IfcSpace",
            s.name,
            building,
            floors.get(s.storey_id),
            codes.get(s.global_id),
        )
        for s in spaces
    ]
    with conn.transaction():
        conn.execute("DELETE FROM twin.bim_link WHERE model = %s", (model,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO twin.bim_link (model, global_id, ifc_type, name, building_code, "
                "floor_no, room_code) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                storey_rows + space_rows,
            )
    return codes
