"""The code hierarchy of block data, and the check characters of Chinese identifiers.

| level | digits | composition |
|---|---|---|
| district | 6 | GB/T 2260 (440306 宝安区) |
| street | 9 | district + 3 |
| community | 12 | street + 3 |
| grid | 14 | community + 2 (01-99) |
| building | 19 | grid + 5 (00001-99999) |
| room | 25 | building + 6 (000001-999999) |

Pure functions, no I/O. Malformed codes raise :class:`~twin.errors.CodeError` naming the code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from twin.errors import CodeError


class Level(StrEnum):
    """A level of the block hierarchy."""

    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    BUILDING = "building"
    ROOM = "room"


LEVEL_LENGTHS: dict[Level, int] = {
    Level.DISTRICT: 6,
    Level.STREET: 9,
    Level.COMMUNITY: 12,
    Level.GRID: 14,
    Level.BUILDING: 19,
    Level.ROOM: 25,
}
_BY_LENGTH = {n: level for level, n in LEVEL_LENGTHS.items()}
_PARENT_LENGTH = {9: 6, 12: 9, 14: 12, 19: 14, 25: 19}
#: Serial parts that must not be all zeros: grid, building, room.
_SERIALS = {14: 2, 19: 5, 25: 6}


def level_of(code: str) -> Level:
    """Return the level of a code by its length.

    Examples
    --------
    >>> level_of("4403060170010100001").value
    'building'
    """
    if not code.isascii() or not code.isdigit():
        raise CodeError(f"code {code!r} must be digits only")
    try:
        return _BY_LENGTH[len(code)]
    except KeyError:
        raise CodeError(
            f"code {code!r} has {len(code)} digits; block codes have 6, 9, 12, 14, 19 or 25"
        ) from None


def validate(code: str, level: Level | None = None) -> str:
    """Check a code's shape and return it stripped.

    Rules: digits only; a level's length; a province part of 11-82 (the GB/T 2260 range);
    a grid serial of 01-99, a building serial other than 00000 and a room serial other than
    000000.

    Examples
    --------
    >>> validate(" 44030601700101 ")
    '44030601700101'
    """
    code = code.strip()
    found = level_of(code)
    if level is not None and found != level:
        raise CodeError(f"code {code} is a {found.value} code, not a {level.value} code")
    if not 11 <= int(code[:2]) <= 82:
        raise CodeError(f"code {code} starts with {code[:2]}, which is no province")
    width = _SERIALS.get(len(code))
    if width and int(code[-width:]) == 0:
        raise CodeError(f"code {code} ends in a serial of zeros")
    return code


def parent(code: str) -> str | None:
    """Return the code one level up (``None`` for a district)."""
    n = _PARENT_LENGTH.get(len(validate(code)))
    return code[:n] if n else None


def _compose(parent_code: str, level: Level, serial: int, width: int) -> str:
    if not 1 <= serial < 10**width:
        raise CodeError(f"serial {serial} does not fit {width} digits under {parent_code}")
    return validate(f"{parent_code}{serial:0{width}d}", level)


def grid_code(community: str, n: int) -> str:
    """Compose a 14-digit grid code.

    Examples
    --------
    >>> grid_code("440306017001", 3)
    '44030601700103'
    """
    return _compose(validate(community, Level.COMMUNITY), Level.GRID, n, 2)


def building_code(grid: str, n: int) -> str:
    """Compose a 19-digit building code."""
    return _compose(validate(grid, Level.GRID), Level.BUILDING, n, 5)


def room_code(building: str, n: int) -> str:
    """Compose a 25-digit room code.

    Examples
    --------
    >>> room_code("4403060170010100001", 12)
    '4403060170010100001000012'
    """
    return _compose(validate(building, Level.BUILDING), Level.ROOM, n, 6)


@dataclass(frozen=True)
class BlockPath:
    """District → street → community → grid → building → room codes, as deep as known."""

    district: str | None = None
    street: str | None = None
    community: str | None = None
    grid: str | None = None
    building: str | None = None
    room: str | None = None

    @classmethod
    def from_code(cls, code: str) -> BlockPath:
        """Expand a code into its full path.

        Examples
        --------
        >>> BlockPath.from_code("44030601700101").street
        '440306017'
        """
        validate(code)
        parts = {level.value: code[:n] for level, n in LEVEL_LENGTHS.items() if n <= len(code)}
        return cls(**parts)

    @property
    def deepest(self) -> str | None:
        """The most precise code of the path."""
        for value in (
            self.room,
            self.building,
            self.grid,
            self.community,
            self.street,
            self.district,
        ):
            if value:
                return value
        return None


# -- resident ID numbers (GB 11643-1999) ---------------------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """Return the check character of an 18-character resident ID number.

    Examples
    --------
    >>> id_check_char("11010519491231002")
    'X'
    """
    if len(first17) != 17 or not first17.isdigit():
        raise CodeError(f"{first17!r} must be 17 digits")
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def is_valid_id_number(text: str) -> bool:
    """Whether an ID number has 18 characters, a real birth date and the right check character."""
    if len(text) != 18 or not text[:17].isdigit():
        return False
    try:
        dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    return id_check_char(text[:17]) == text[17].upper()


# -- unified social credit codes (GB 32100-2015) ---------------------------------------------
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """Return the check character of an 18-character unified social credit code.

    Examples
    --------
    >>> uscc_check_char("91350100M000100Y4")
    '3'
    """
    try:
        total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    except (ValueError, TypeError):
        raise CodeError(f"{first17!r} must be 17 characters of {USCC_ALPHABET}") from None
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(text: str) -> bool:
    """Whether a credit code has 18 valid characters and the right check character."""
    if len(text) != 18 or any(c not in USCC_ALPHABET for c in text):
        return False
    return uscc_check_char(text[:17]) == text[17]


_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code_check_char(first8: str) -> str:
    """Return the check character of a GB 11714 organisation code (positions 9-17 of a USCC).

    Examples
    --------
    >>> org_code_check_char("M000100Y")
    '4'
    """
    if len(first8) != 8 or not first8.isascii() or not first8.isalnum():
        raise CodeError(f"{first8!r} must be 8 digits or capital letters")
    # GB 11714 values: digits as such, letters A=10 ... Z=35.
    total = sum(
        (int(c) if c.isdigit() else ord(c.upper()) - 55) * w
        for c, w in zip(first8, _ORG_WEIGHTS, strict=True)
    )
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))
