"""Standard addresses of generated units: codes, Shenzhen-order texts and aliases.

Address codes are composed by :mod:`twin.address_codes`.

Texts follow the Shenzhen order: 广东省深圳市 + district + street + community + road + door
number + compound + building + unit + room.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "广东省深圳市"


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
