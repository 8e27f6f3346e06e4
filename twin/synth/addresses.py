"""Standard addresses (统一地址) of generated units: texts, rows and aliases.

Texts follow the Shenzhen order: 广东省深圳市 + district + street + community + road + door
number + compound + building + unit + floor or room, e.g.
``广东省深圳市宝安区新安街道海滨社区翻身路45号碧海花园3栋2单元1203室``. Address codes are
composed by :mod:`twin.address_codes`. Aliases are the forms clerks and other agencies write:
old names, 栋/座/幢/号楼 variants, nicknames, abbreviations and missing levels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twin.synth import SOURCE

if TYPE_CHECKING:
    import numpy as np

    from twin.synth.writer import Row

PREFIX = "广东省深圳市"
#: Other marks of a building number, as other agencies write them.
BUILDING_MARKS = ("栋", "座", "幢", "号楼")


@dataclass(frozen=True)
class AdminNames:
    """The administrative names above an address."""

    district: str
    street: str
    community: str

    @property
    def head(self) -> str:
        """广东省深圳市 + district + street + community."""
        return f"{PREFIX}{self.district}{self.street}{self.community}"


@dataclass(frozen=True)
class Place:
    """The block path every address row of one unit shares (None above the street)."""

    district: str
    street: str | None = None
    community: str | None = None


def door_text(head: str, road: str, door_no: int) -> str:
    """Return a door plate's standard text.

    Examples
    --------
    >>> door_text("广东省深圳市宝安区新安街道海滨社区", "翻身路", 45)[-6:]
    '翻身路45号'
    """
    return f"{head}{road}{door_no}号"


def floor_label(floor: int) -> str:
    """Return how a floor is written: ``12层``, or ``地下2层`` for the second basement.

    Examples
    --------
    >>> floor_label(12), floor_label(-2)
    ('12层', '地下2层')
    """
    return f"地下{-floor}层" if floor < 0 else f"{floor}层"


def unit_text(building_text: str, unit: int | str) -> str:
    """Return a unit's (单元) standard text under its building's."""
    return f"{building_text}{unit}单元"


def room_text(building_text: str, unit: str | None, room_no: str) -> str:
    """Return a room's standard text under its building's.

    Examples
    --------
    >>> room_text("…碧海花园3栋", "2", "1203"), room_text("…上川村5栋", None, "402")
    ('…碧海花园3栋2单元1203室', '…上川村5栋402室')
    """
    return f"{building_text}{unit}单元{room_no}室" if unit else f"{building_text}{room_no}室"


def elements(**parts: Any) -> str:
    """Return the address elements as JSON text (element names of the address parser).

    Examples
    --------
    >>> elements(road="翻身路", door="45号", floor=12)
    '{"road": "翻身路", "door": "45号", "floor": 12}'
    """
    return json.dumps({k: v for k, v in parts.items() if v is not None}, ensure_ascii=False)


def address_row(
    place: Place,
    code: str,
    level: str,
    text: str,
    parent: str | None,
    *,
    grid: str | None = None,
    road_id: int | None = None,
    door: str | None = None,
    compound_id: int | None = None,
    building: str | None = None,
    unit: str | None = None,
    floor: int | None = None,
    room: str | None = None,
    elements_json: str = "{}",
    geom: str | None = None,
) -> Row:
    """Return one ``twin.address`` row, published and marked as generated."""
    return (
        code, level, text, parent, place.district, place.street, place.community, grid,
        road_id, door, compound_id, building, unit, floor, room, elements_json, geom,
        "published", True, SOURCE,
    )  # fmt: skip


def building_aliases(
    rng: np.random.Generator,
    names: AdminNames,
    compound: str,
    nickname: str,
    old_name: str | None,
    label: str,
    road_door: str,
) -> list[tuple[str, str]]:
    """Return (alias, kind) pairs of a building, as clerks and other agencies write it.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> names = AdminNames("宝安区", "新安街道", "海滨社区")
    >>> [k for _, k in building_aliases(rng, names, "碧海花园", "碧海小区", None, "3栋", "")]
    ['variant', 'nickname', 'abbreviation']
    """
    number, mark = label[:-1], label[-1]
    other = [m for m in BUILDING_MARKS if m != mark]
    out = [
        (f"{compound}{number}{other[int(rng.integers(len(other)))]}", "variant"),
        (f"{nickname}{number}号楼", "nickname"),
        (f"{names.district}{names.street}{compound}{label}", "abbreviation"),
    ]
    if road_door:
        out.append((f"{names.district}{road_door}{compound}{label}", "agency"))
    if old_name:
        out.append((f"{old_name}{label}", "old_name"))
    return _unique(out)


def _unique(aliases: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Keep the first alias of each text (one text is one alias of an address)."""
    seen: set[str] = set()
    out = []
    for text, kind in aliases:
        if text not in seen:
            seen.add(text)
            out.append((text, kind))
    return out


def compound_aliases(
    names: AdminNames, name: str, nickname: str, old_name: str | None
) -> list[tuple[str, str]]:
    """Return (alias, kind) pairs of a compound: its nickname, short form and old name."""
    out = [(f"{names.district}{name}", "abbreviation")]
    if nickname != name:
        out.append((f"{names.head}{nickname}", "nickname"))
    if old_name:
        out.append((f"{names.head}{old_name}", "old_name"))
    return _unique(out)


def alias_row(alias_id: int, code: str, text: str, kind: str) -> Row:
    """Return one ``twin.address_alias`` row."""
    return (alias_id, code, text, kind, SOURCE, SOURCE)
