"""The summaries' queries on a PostGIS connection (SQL in ``blocks/summary/sql``).

Every function takes an open connection and plain arguments and returns JSON-ready data. The
privacy threshold ``k`` is the caller's: counts below it come back as ``None``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from blocks.errors import BlockInputError, BlockNotFoundError
from twin.privacy import mask_id_number, mask_name, mask_phone, mask_text

if TYPE_CHECKING:
    import psycopg

#: Digits of the block code at each level (building 19, room 25).
LEVEL_DIGITS = {"district": 6, "street": 9, "community": 12, "grid": 14, "building": 19}
#: Outline simplification per level, in degrees (about 50 m, 20 m, 10 m and 3 m): enough for
#: a map at the zoom where each level is read, and far fewer vertices to send.
TOLERANCE_DEG = {"district": 5e-4, "street": 2e-4, "community": 1e-4, "grid": 3e-5}
#: The most units one answer holds (every grid of a city district fits).
MAX_UNITS = 5_000
#: The record kinds placed in blocks.
RECORD_KINDS = ("person", "legal_entity", "event")
_CODE = re.compile(r"^[0-9]+$")
_PATH_LENGTHS = (6, 9, 12, 14, 19)


@cache
def _sql(name: str) -> str:
    return resources.files("blocks.summary").joinpath("sql", name).read_text(encoding="utf-8")


def check_code(code: str, field: str = "code") -> str:
    """Return a block code that is all digits and of a block level's length, or raise.

    Examples
    --------
    >>> check_code("44030601700101")
    '44030601700101'
    >>> check_code("4403x")
    Traceback (most recent call last):
    ...
    blocks.errors.BlockInputError: code '4403x' is not a block code: ...
    """
    if not _CODE.match(code) or len(code) not in (*_PATH_LENGTHS, 25):
        raise BlockInputError(
            f"{field} {code!r} is not a block code: it has 6 (district), 9 (street), "
            "12 (community), 14 (grid), 19 (building) or 25 (room) digits"
        )
    return code


def _building_code(code: str) -> str:
    if len(check_code(code)) != LEVEL_DIGITS["building"]:
        raise BlockInputError(f"code {code!r} is not a building code: it has 19 digits")
    return code


def _counts(row: tuple[Any, ...], at: int) -> dict[str, int | None]:
    return {"people": row[at], "companies": row[at + 1], "events": row[at + 2]}


def units_geojson(
    conn: psycopg.Connection[Any], level: str, parent: str | None = None, k: int = 0
) -> dict[str, Any]:
    """Return the units of a level (within ``parent`` when given) as a GeoJSON FeatureCollection.

    Each feature's properties: ``code``, ``level``, ``name``, ``parent_code``, ``label``
    (``[lon, lat]`` of a point inside it), ``people``, ``companies``, ``events`` (``None``
    below ``k``) and ``buildings``. Units without an outline are left out.

    Raises
    ------
    BlockInputError
        When ``level`` is not district, street, community or grid, or ``parent`` is no code.
    """
    if level not in TOLERANCE_DEG:
        raise BlockInputError(
            f"level {level!r} is unknown: use district, street, community or grid"
        )
    if parent is not None:
        check_code(parent, "parent")
    rows = conn.execute(
        _sql("units.sql"),
        {"level": level, "parent": parent, "limit": MAX_UNITS, "k": k,
         "digits": LEVEL_DIGITS[level], "tolerance": TOLERANCE_DEG[level]},
    ).fetchall()  # fmt: skip
    features = [
        {
            "type": "Feature",
            "id": row[0],
            "geometry": json.loads(row[4]),
            "properties": {
                "code": row[0],
                "level": row[1],
                "name": row[2],
                "parent_code": row[3],
                "label": [row[5], row[6]],
                **_counts(row, 7),
                "buildings": row[10],
            },
        }
        for row in rows
    ]
    return {"type": "FeatureCollection", "features": features}


def block_path(conn: psycopg.Connection[Any], code: str, k: int = 0) -> list[dict[str, Any]]:
    """Return the path of a block code, coarse to fine, with each level's numbers.

    District → street → community → grid → building (a room code gives its building's path).
    Each step: ``code``, ``level``, ``name``, ``people``, ``companies``, ``events`` (``None``
    below ``k``), ``children`` (child units; a building's rooms), ``buildings`` and ``bbox``
    (``[west, south, east, north]``, WGS84).

    Raises
    ------
    BlockInputError
        When ``code`` is not a block code.
    BlockNotFoundError
        When no unit or building has that code.
    """
    check_code(code)
    codes = [code[:n] for n in _PATH_LENGTHS if n <= len(code)]
    rows = conn.execute(_sql("path.sql"), {"codes": codes, "k": k}).fetchall()
    if not rows or rows[-1][0] != codes[-1]:
        raise BlockNotFoundError(f"no administrative unit or building has the code {codes[-1]}")
    return [
        {
            "code": r[0],
            "level": r[1],
            "name": r[2],
            **_counts(r, 3),
            "children": r[6],
            "buildings": r[7],
            "bbox": [r[8], r[9], r[10], r[11]],
        }
        for r in rows
    ]


def building_card(conn: psycopg.Connection[Any], code: str, k: int = 0) -> dict[str, Any]:
    """Return what the inspector shows of a building.

    Its ``code``, ``name``, ``grid_code``, ``floors``, ``basement_floors``, ``height_m``,
    ``use``, ``built_year``, ``location`` (``[lon, lat]`` inside it), ``address`` (code, text,
    status, ``aliases`` as ``{text, kind}``), its counts (``None`` below ``k``), ``rooms`` and
    ``floor_list`` (each floor's number, label, rooms and counts).

    Raises
    ------
    BlockInputError
        When ``code`` is not a 19-digit building code.
    BlockNotFoundError
        When there is no such building.
    """
    _building_code(code)
    row = conn.execute(_sql("building.sql"), {"code": code, "k": k}).fetchone()
    if row is None:
        raise BlockNotFoundError(f"there is no building {code}")
    address = None
    if row[10] is not None:
        aliases = conn.execute(
            "SELECT text, kind FROM twin.address_alias WHERE address_code = %s ORDER BY kind, text",
            (row[10],),
        ).fetchall()
        address = {"code": row[10], "text": row[11], "status": row[12],
                   "aliases": [{"text": t, "kind": kd} for t, kd in aliases]}  # fmt: skip
    floors = conn.execute(_sql("floors.sql"), {"code": code, "k": k}).fetchall()
    return {
        "code": row[0], "name": row[1], "grid_code": row[2], "floors": row[3],
        "basement_floors": row[4], "height_m": round(float(row[5]), 2), "use": row[6],
        "built_year": row[7], "location": [row[8], row[9]], "address": address,
        **_counts(row, 13), "rooms": row[16],
        "floor_list": [
            {"floor_no": f[0], "label": f[1], "rooms": f[2], **_counts(f, 3)} for f in floors
        ],
    }  # fmt: skip


def room_counts(
    conn: psycopg.Connection[Any], code: str, k: int = 0
) -> dict[str, dict[str, int | None]]:
    """Return the people, companies and events of each room of a building, by room code."""
    rows = conn.execute(_sql("rooms.sql"), {"code": code, "k": k}).fetchall()
    return {r[0]: _counts(r, 1) for r in rows}


def _masked(row: tuple[Any, ...]) -> dict[str, Any]:
    kind = row[0]
    out: dict[str, Any] = {"kind": kind, "id": str(row[1]), "floor_no": row[2], "room_no": row[3],
                           "method": row[4], "confidence": round(float(row[5]), 3),
                           "band": row[6]}  # fmt: skip
    if kind == "person":
        out |= {"name": mask_name(row[7]), "id_number": mask_id_number(row[8]),
                "phone": mask_phone(row[9]), "residence_kind": row[10]}  # fmt: skip
    elif kind == "legal_entity":  # a company's name and credit code are public registers
        out |= {"name": row[7], "uscc": row[8], "industry": row[11]}
    else:
        out |= {"event_type": row[7], "occurred_at": row[12].isoformat() if row[12] else None,
                "status": row[13], "description": mask_text(row[14])}  # fmt: skip
    return out


def building_records(
    conn: psycopg.Connection[Any], code: str, kind: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Return the records placed in a building, personal fields masked.

    People: masked name, ID number and phone, residence kind; legal entities: name, credit
    code, industry; events: type, time, status, description (phone and ID numbers in it
    masked). Each with ``floor_no``, ``room_no`` and how it was placed.

    Raises
    ------
    BlockInputError
        When ``kind`` is not person, legal_entity or event.
    """
    if kind is not None and kind not in RECORD_KINDS:
        raise BlockInputError(f"kind {kind!r} is unknown: use person, legal_entity or event")
    rows = conn.execute(
        _sql("records.sql"), {"code": code, "kind": kind, "limit": limit}
    ).fetchall()
    return [_masked(r) for r in rows]


def check_building(conn: psycopg.Connection[Any], code: str) -> str:
    """Return ``code`` when a building has it; raise as :func:`building_card` does otherwise."""
    _building_code(code)
    if conn.execute("SELECT 1 FROM twin.building WHERE code = %s", (code,)).fetchone() is None:
        raise BlockNotFoundError(f"there is no building {code}")
    return code


def places(conn: psycopg.Connection[Any], codes: list[str]) -> dict[str, dict[str, Any]]:
    """Return the standard text, location and building of address and unit codes.

    Each found code gives ``{"text", "lon", "lat", "building"}``: the address's point, else a
    point inside the administrative unit's outline; ``building`` when it lies in one.
    """
    rows = conn.execute(_sql("places.sql"), {"codes": codes}).fetchall()
    return {
        r[0]: {"text": r[1], "lon": r[2], "lat": r[3], "building": r[4]}
        for r in rows
        if r[2] is not None
    }
