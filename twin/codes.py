"""The code hierarchy of block data, and the check characters of Chinese identifiers.

| level | digits | composition |
|---|---|---|
| district | 6 | GB/T 2260: province 2 + city 2 + district 2 (440306 宝安区) |
| street | 9 | district + 3 (national statistical town code) |
| community | 12 | street + 3 (national statistical village code) |
| grid | 14 | community + 2 (base grid 基础网格, 01-99) |
| building | 19 | grid + 5 (00001-99999) |
| room | 25 | building + 6 (000001-999999) |

A room code such as ``4403070030030400042000003`` carries its whole block path: its first 19
digits are the building code, the first 14 the grid, the first 12 the community, and so on.
Nothing here is particular to Shenzhen. Also here: resident ID numbers (GB 11643-1999) and
unified social credit codes (GB 32100-2015, with a GB 11714 organisation code inside).

Pure functions, no I/O. Malformed codes raise :class:`~twin.errors.CodeError` with a message
that names the code and says what is wrong with it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields
from enum import StrEnum

from twin.errors import CodeError


class Level(StrEnum):
    """A level of the block hierarchy, coarse to fine.

    Examples
    --------
    >>> Level.GRID.length
    14
    """

    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    BUILDING = "building"
    ROOM = "room"

    @property
    def length(self) -> int:
        """The number of digits of a code of this level."""
        return LEVEL_LENGTHS[self]


#: Digits of a code of each level, coarse to fine.
LEVEL_LENGTHS: dict[Level, int] = {
    Level.DISTRICT: 6,
    Level.STREET: 9,
    Level.COMMUNITY: 12,
    Level.GRID: 14,
    Level.BUILDING: 19,
    Level.ROOM: 25,
}
_BY_LENGTH = {n: level for level, n in LEVEL_LENGTHS.items()}
_LENGTHS = tuple(LEVEL_LENGTHS.values())
#: Parts that must not be all zeros: (name, start, end) as slice bounds. The district part
#: (digits 5-6) may be 00: cities without districts (东莞 441900, 中山 442000) carry streets.
_NONZERO_PARTS = (("city part", 2, 4), ("street serial", 6, 9), ("community serial", 9, 12),
                  ("grid serial", 12, 14), ("building serial", 14, 19),
                  ("room serial", 19, 25))  # fmt: skip
_ASCII_DIGITS = re.compile(r"[0-9]+")


def level_of(code: str) -> Level:
    """Return the level of a code by its length.

    Parameters
    ----------
    code
        A block code, exactly as given (no whitespace is stripped).

    Returns
    -------
    Level
        The level whose length the code has.

    Raises
    ------
    CodeError
        If the code has other characters than the ASCII digits 0-9, or a length of no level.

    Examples
    --------
    >>> level_of("4403060170010100001").value
    'building'
    >>> level_of("44030")
    Traceback (most recent call last):
    ...
    twin.errors.CodeError: code '44030' has 5 digits; block codes have 6, 9, 12, 14, 19 or 25
    """
    if not _ASCII_DIGITS.fullmatch(code):
        raise CodeError(f"code {code!r} must be digits 0-9 only")
    try:
        return _BY_LENGTH[len(code)]
    except KeyError:
        raise CodeError(
            f"code {code!r} has {len(code)} digits; block codes have 6, 9, 12, 14, 19 or 25"
        ) from None


def validate(code: str, level: Level | None = None) -> str:
    """Check a block code's shape and return it without surrounding whitespace.

    The rules, in the order they are checked:

    1. Only the ASCII digits 0-9 (after stripping surrounding whitespace).
    2. The length of a level: 6, 9, 12, 14, 19 or 25 digits; ``level``'s length if given.
    3. A province part (digits 1-2) of 11-82, the GB/T 2260 range. Any province passes:
       the code need not start with Shenzhen's 4403.
    4. No part that numbers something is all zeros: the city (digits 3-4; 00 would make a
       district code a province), street serial (000), community serial (000), grid serial
       (00), building serial (00000) and room serial (000000). The district part (digits
       5-6) may be 00, for cities without districts such as 东莞 (441900).

    Parameters
    ----------
    code
        The code to check.
    level
        The level the code must have, or ``None`` for any level.

    Returns
    -------
    str
        The code, stripped.

    Raises
    ------
    CodeError
        If any rule is broken; the message names the code and the rule.

    Examples
    --------
    >>> validate(" 44030601700101 ")
    '44030601700101'
    >>> validate("44030601700100")
    Traceback (most recent call last):
    ...
    twin.errors.CodeError: code '44030601700100' has a grid serial of 00, which must not be zero
    """
    code = code.strip()
    found = level_of(code)
    if level is not None and found != level:
        raise CodeError(f"code {code!r} is a {found.value} code, not a {level.value} code")
    if not 11 <= int(code[:2]) <= 82:
        raise CodeError(f"code {code!r} starts with {code[:2]}, which is no province (11-82)")
    for name, start, end in _NONZERO_PARTS:
        if end <= len(code) and int(code[start:end]) == 0:
            part = code[start:end]
            raise CodeError(f"code {code!r} has a {name} of {part}, which must not be zero")
    return code


def parent(code: str) -> str | None:
    """Return the code one level up, or ``None`` for a district.

    Examples
    --------
    >>> parent("4403070030030400042000003")
    '4403070030030400042'
    >>> parent("440307") is None
    True
    """
    code = validate(code)
    up = [n for n in _LENGTHS if n < len(code)]
    return code[: up[-1]] if up else None


def ancestors(code: str) -> dict[Level, str]:
    """Return the block path of a code: its code at each level, district first, itself last.

    Examples
    --------
    >>> for level, part in ancestors("4403070030030400042").items():
    ...     print(f"{level.value:<9} {part}")
    district  440307
    street    440307003
    community 440307003003
    grid      44030700300304
    building  4403070030030400042
    """
    code = validate(code)
    return {level: code[:n] for level, n in LEVEL_LENGTHS.items() if n <= len(code)}


def is_ancestor(ancestor: str, code: str) -> bool:
    """Whether ``ancestor`` is a strict ancestor of ``code`` (a shorter code it starts with).

    Both codes are validated; a code is not its own ancestor.

    Examples
    --------
    >>> is_ancestor("440307003", "4403070030030400042")
    True
    >>> is_ancestor("440306", "4403070030030400042")
    False
    """
    ancestor, code = validate(ancestor), validate(code)
    return len(ancestor) < len(code) and code.startswith(ancestor)


def _compose(parent_code: str, level: Level, serial: int, width: int) -> str:
    if isinstance(serial, bool) or not 1 <= serial < 10**width:
        raise CodeError(
            f"serial {serial!r} under code {parent_code!r} must be 1 to {10**width - 1} "
            f"to fit the {width} digits of a {level.value} serial"
        )
    return validate(f"{parent_code}{serial:0{width}d}", level)


def grid_code(community: str, n: int) -> str:
    """Compose a 14-digit grid code: a community code and a grid serial of 1-99.

    Raises
    ------
    CodeError
        If the community code is malformed or the serial is not 1-99.

    Examples
    --------
    >>> grid_code("440306017001", 3)
    '44030601700103'
    """
    return _compose(validate(community, Level.COMMUNITY), Level.GRID, n, 2)


def building_code(grid: str, n: int) -> str:
    """Compose a 19-digit building code: a grid code and a building serial of 1-99999.

    Raises
    ------
    CodeError
        If the grid code is malformed or the serial does not fit five digits.

    Examples
    --------
    >>> building_code("44030700300304", 42)
    '4403070030030400042'
    """
    return _compose(validate(grid, Level.GRID), Level.BUILDING, n, 5)


def room_code(building: str, n: int) -> str:
    """Compose a 25-digit room code: a building code and a room serial of 1-999999.

    Raises
    ------
    CodeError
        If the building code is malformed or the serial does not fit six digits.

    Examples
    --------
    >>> room_code("4403070030030400042", 3)
    '4403070030030400042000003'
    """
    return _compose(validate(building, Level.BUILDING), Level.ROOM, n, 6)


@dataclass(frozen=True)
class BlockPath:
    """District → street → community → grid → building → room codes, as deep as known.

    Every given code is validated for its level (and stripped), and each given code must
    start with the given code above it; levels may be left out (``None``) anywhere. A
    building need only share the community of its grid: a building code keeps the grid it
    was issued under, and a re-delineation may have moved the building to another grid
    (docs/blocks.md, "Grids").

    Raises
    ------
    CodeError
        If a code is malformed, of the wrong level, or not inside the code above it.

    Examples
    --------
    >>> path = BlockPath.from_code("4403070030030400042")
    >>> path.grid, path.room, path.deepest
    ('44030700300304', None, '4403070030030400042')
    >>> BlockPath(grid="44030700300305", building="4403070030030400042").grid
    '44030700300305'
    >>> BlockPath(district="440306", street="440307003")
    Traceback (most recent call last):
    ...
    twin.errors.CodeError: street '440307003' does not start with its district '440306'
    """

    district: str | None = None
    street: str | None = None
    community: str | None = None
    grid: str | None = None
    building: str | None = None
    room: str | None = None

    def __post_init__(self) -> None:
        above, above_code = Level.DISTRICT, ""
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            level = Level(f.name)
            code = validate(value, level)
            object.__setattr__(self, f.name, code)
            if level is Level.BUILDING and above is Level.GRID:
                above_code = above_code[:12]  # the grid's community
            if not code.startswith(above_code):
                raise CodeError(
                    f"{level.value} {code!r} does not start with its {above.value} {above_code!r}"
                )
            above, above_code = level, code

    @classmethod
    def from_code(cls, code: str) -> BlockPath:
        """Expand a code into its full path down to its own level.

        Examples
        --------
        >>> BlockPath.from_code("44030601700101").street
        '440306017'
        """
        return cls(**{level.value: part for level, part in ancestors(code).items()})

    @property
    def deepest(self) -> str | None:
        """The most precise code of the path, or ``None`` for an empty path."""
        codes = [c for c in (getattr(self, level.value) for level in Level) if c is not None]
        return codes[-1] if codes else None

    @property
    def level(self) -> Level | None:
        """The level of :attr:`deepest`, or ``None`` for an empty path."""
        deepest = self.deepest
        return None if deepest is None else level_of(deepest)


# -- resident ID numbers (GB 11643-1999) ------------------------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9Xx]")
#: The earliest birth date an ID number may carry.
EARLIEST_BIRTH = dt.date(1850, 1, 1)


def id_check_char(first17: str) -> str:
    """Return the check character of an 18-character resident ID number (GB 11643-1999).

    The sum of the 17 digits times the weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, modulo
    11, indexes ``"10X98765432"``.

    Raises
    ------
    CodeError
        If ``first17`` is not 17 ASCII digits.

    Examples
    --------
    >>> id_check_char("11010519491231002")  # the standard's own example
    'X'
    >>> id_check_char("44030619900101123")
    '6'
    """
    if len(first17) != 17 or not _ASCII_DIGITS.fullmatch(first17):
        raise CodeError(f"{first17!r} must be 17 digits to have an ID check character")
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_birth_date(number: str) -> dt.date | None:
    """Return the birth date an ID number carries, or ``None`` if it carries no plausible one.

    An 18-character number holds ``YYYYMMDD`` at positions 7-14; an old 15-digit one holds
    ``YYMMDD`` at positions 7-12, in the 1900s. A plausible date is a real day from
    :data:`EARLIEST_BIRTH` to today. The check character is not looked at.

    Examples
    --------
    >>> id_birth_date("44030619900101123X")
    datetime.date(1990, 1, 1)
    >>> id_birth_date("440306900101123")
    datetime.date(1990, 1, 1)
    >>> id_birth_date("440306199002301236") is None  # 30 February
    True
    """
    if len(number) == 18 and _ASCII_DIGITS.fullmatch(number[:17]):
        digits = number[6:14]
    elif len(number) == 15 and _ASCII_DIGITS.fullmatch(number):
        digits = "19" + number[6:12]
    else:
        return None
    try:
        born = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
    return born if EARLIEST_BIRTH <= born <= dt.date.today() else None


def is_valid_id_number(text: str) -> bool:
    """Whether ``text`` is an 18-character resident ID number.

    It must be 17 ASCII digits and a check character (a digit or ``X``, either case), carry
    a plausible birth date (see :func:`id_birth_date`), and have the right check character.
    Old 15-digit numbers have no check character and are not valid here.

    Examples
    --------
    >>> is_valid_id_number("11010519491231002X")
    True
    >>> is_valid_id_number("440306199001011236")
    True
    >>> is_valid_id_number("440306199001011237")  # wrong check character
    False
    """
    if not _ID_SHAPE.fullmatch(text) or id_birth_date(text) is None:
        return False
    return id_check_char(text[:17]) == text[17].upper()


# -- unified social credit codes (GB 32100-2015) ----------------------------------------------
#: The 31 characters of credit codes: digits and capitals without I, O, Z, S and V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """Return the check character of an 18-character unified social credit code.

    Each character's value is its index in :data:`USCC_ALPHABET` (``A`` = 10, ``M`` = 21,
    ``Y`` = 30); the weights are 3**i mod 31. The check value is 31 - (sum mod 31), with 31
    written as 0.

    Raises
    ------
    CodeError
        If ``first17`` is not 17 characters of :data:`USCC_ALPHABET`.

    Notes
    -----
    For ``91350100M000100Y4``: 9·1 + 1·3 + 3·9 + 5·27 + 1·26 + 21·20 (M) + 1·8 + 30·30 (Y)
    + 4·28 = 1640; 1640 mod 31 = 28; 31 - 28 = 3, so the code is ``91350100M000100Y43``.

    Examples
    --------
    >>> uscc_check_char("91350100M000100Y4")
    '3'
    """
    if len(first17) != 17 or any(c not in _USCC_VALUES for c in first17):
        raise CodeError(f"{first17!r} must be 17 characters of {USCC_ALPHABET}")
    total = sum(_USCC_VALUES[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(text: str) -> bool:
    """Whether ``text`` is a unified social credit code with the right check character.

    It must be 18 characters of :data:`USCC_ALPHABET` (capitals only).

    Examples
    --------
    >>> is_valid_uscc("91350100M000100Y43")
    True
    >>> is_valid_uscc("91350100M000100Y44")
    False
    """
    if len(text) != 18 or any(c not in _USCC_VALUES for c in text):
        return False
    return uscc_check_char(text[:17]) == text[17]


_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code_check_char(first8: str) -> str:
    """Return the check character of a GB 11714 organisation code (positions 9-17 of a USCC).

    Digits count as themselves and capitals A-Z as 10-35; the weights are 3 7 9 10 5 8 4 2;
    the check value is 11 - (sum mod 11), written ``X`` for 10 and ``0`` for 11.

    Raises
    ------
    CodeError
        If ``first8`` is not 8 ASCII digits or letters.

    Examples
    --------
    >>> org_code_check_char("M000100Y")
    '4'
    """
    if len(first8) != 8 or not first8.isascii() or not first8.isalnum():
        raise CodeError(f"{first8!r} must be 8 digits or capital letters")
    total = sum(
        (int(c) if c.isdigit() else ord(c.upper()) - 55) * w
        for c, w in zip(first8, _ORG_WEIGHTS, strict=True)
    )
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))
