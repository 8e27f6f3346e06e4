"""Codes of standard addresses: one code per address at one level, never reused.

Address codes (one code per standard address at one level):

| level | code |
|---|---|
| district / street / community | the administrative code |
| road | district (6) + ``R`` + 5-digit serial |
| door (门牌) | community (12) + ``D`` + 5-digit serial |
| compound (小区) | community (12) + ``C`` + 4-digit serial |
| building | the 19-digit building code |
| unit (单元) | building code + ``U`` + 2 digits |
| floor | building code + ``F`` + 3 characters (``012``; ``B02`` for basements) |
| room | the 25-digit room code |

Every code below the community starts with its community's (or building's) code, so a code
says where its address is; serials are handed out by the database (``twin.code_counter``)
and never reused, even after an address is retired.
"""

from __future__ import annotations

import re

from twin.errors import CodeError

#: Address levels, coarse to fine.
LEVELS = (
    "district",
    "street",
    "community",
    "road",
    "door",
    "compound",
    "building",
    "unit",
    "floor",
    "room",
)
_SHAPES = {
    "district": re.compile(r"^\d{6}$"),
    "street": re.compile(r"^\d{9}$"),
    "community": re.compile(r"^\d{12}$"),
    "road": re.compile(r"^\d{6}R\d{5}$"),
    "door": re.compile(r"^\d{12}D\d{5}$"),
    "compound": re.compile(r"^\d{12}C\d{4}$"),
    "building": re.compile(r"^\d{19}$"),
    "unit": re.compile(r"^\d{19}U\d{2}$"),
    "floor": re.compile(r"^\d{19}F(\d{3}|B\d{2})$"),
    "room": re.compile(r"^\d{25}$"),
}


def address_level(code: str) -> str:
    """Return the level of an address code.

    Examples
    --------
    >>> address_level("440306017001D00045"), address_level("4403060170010100001U02")
    ('door', 'unit')
    """
    for level, shape in _SHAPES.items():
        if shape.match(code):
            return level
    raise CodeError(f"{code!r} is no address code")


def road_address_code(district: str, serial: int) -> str:
    """Return a road's address code.

    Examples
    --------
    >>> road_address_code("440306", 7)
    '440306R00007'
    """
    return f"{district}R{serial:05d}"


def door_address_code(community: str, serial: int) -> str:
    """Return a door plate's address code."""
    return f"{community}D{serial:05d}"


def compound_address_code(community: str, serial: int) -> str:
    """Return a compound's address code."""
    return f"{community}C{serial:04d}"


def unit_address_code(building: str, unit: int) -> str:
    """Return a unit's (单元) address code."""
    return f"{building}U{unit:02d}"


def floor_address_code(building: str, floor: int) -> str:
    """Return a floor's address code (``B02`` for the second basement).

    Examples
    --------
    >>> floor_address_code("4403060170010100001", -2)
    '4403060170010100001FB02'
    """
    return f"{building}F{f'B{-floor:02d}' if floor < 0 else f'{floor:03d}'}"
