"""Standard addresses of generated units: codes, Shenzhen-order texts and aliases.

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

Texts follow the Shenzhen order: 广东省深圳市 + district + street + community + road + door
number + compound + building + unit + room.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "广东省深圳市"


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


@dataclass(frozen=True)
class AdminNames:
    """The names above a community, for address texts."""

    district: str
    street: str
    community: str

    @property
    def head(self) -> str:
        """广东省深圳市 + district + street + community."""
        return f"{PREFIX}{self.district}{self.street}{self.community}"


def door_text(admin: AdminNames, road: str, door_no: int) -> str:
    """Return a door plate's standard text, e.g. ``…海滨社区翻身路45号``."""
    return f"{admin.head}{road}{door_no}号"


def room_text(building_text: str, unit: str | None, room_no: str) -> str:
    """Return a room's standard text under its building's."""
    return f"{building_text}{unit + '单元' if unit else ''}{room_no}室"


def building_aliases(compound: str, nickname: str, label: str) -> list[tuple[str, str]]:
    """Return (alias text, kind) pairs of a building, as other agencies write it."""
    number = label[:-1]  # "3栋" → "3", "A座" → "A"
    out = [
        (f"{compound}{number}座" if label.endswith("栋") else f"{compound}{number}栋", "variant"),
        (f"{nickname}{number}号楼", "nickname"),
    ]
    return out
