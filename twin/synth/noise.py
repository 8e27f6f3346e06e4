"""Messy addresses as clerks type them, built from the parts of a standard address.

Each record gets no noise (``exact``) or one or two of the kinds below; the truth file keeps
the kinds so that accuracy can be measured per kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from twin.synth.names import LANDMARKS, ROAD_STEMS, pick

if TYPE_CHECKING:
    import numpy as np

NOISE_KINDS = (
    "missing_levels",
    "building_variant",
    "chinese_numerals",
    "fullwidth",
    "typo",
    "landmark",
    "phone",
    "reorder",
    "alias",
    "compound_only",
)
_DIGITS = "零一二三四五六七八九"
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
#: Characters clerks confuse (same sound or shape).
_CONFUSED = {
    "园": "源",
    "源": "园",
    "华": "化",
    "苑": "院",
    "庭": "廷",
    "城": "成",
    "湖": "胡",
    "海": "每",
    "景": "京",
    "新": "心",
    "安": "按",
    "宝": "保",
    "兴": "星",
    "丰": "风",
    "龙": "隆",
    "田": "甜",
    "山": "删",
    "翠": "萃",
}


class AddressParts(NamedTuple):
    """The parts of a standard address, coarse to fine."""

    province_city: str
    district: str
    street: str
    community: str
    road: str
    door: str
    compound: str
    nickname: str
    building: str
    unit: str
    room: str

    def text(self) -> str:
        """Return the parts joined in the Shenzhen order."""
        return "".join(
            (
                self.province_city,
                self.district,
                self.street,
                self.community,
                self.road,
                self.door,
                self.compound,
                self.building,
                self.unit,
                self.room,
            )
        )


def chinese_number(n: int) -> str:
    """Write a number as clerks do in Chinese: 3 → 三, 12 → 十二, 1203 → 一二〇三.

    Examples
    --------
    >>> chinese_number(12), chinese_number(23), chinese_number(1203)
    ('十二', '二十三', '一二〇三')
    """
    if n < 10:
        return _DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")
    return "".join("〇" if c == "0" else _DIGITS[int(c)] for c in str(n))


def _numerals(parts: AddressParts) -> AddressParts:
    def conv(text: str) -> str:
        digits = "".join(c for c in text if c.isdigit())
        if not digits:
            return text
        return text.replace(digits, chinese_number(int(digits)), 1)

    return parts._replace(
        building=conv(parts.building), unit=conv(parts.unit), room=conv(parts.room)
    )


def _typo(parts: AddressParts, rng: np.random.Generator) -> AddressParts:
    for field in ("compound", "road"):
        text = getattr(parts, field)
        spots = [i for i, c in enumerate(text) if c in _CONFUSED]
        if spots:
            i = spots[int(rng.integers(len(spots)))]
            return parts._replace(**{field: text[:i] + _CONFUSED[text[i]] + text[i + 1 :]})
    return parts


def _apply(kind: str, parts: AddressParts, rng: np.random.Generator) -> AddressParts | str:
    match kind:
        case "missing_levels":
            drop_admin = rng.random() < 0.5
            return parts._replace(
                province_city="",
                street="" if drop_admin else parts.street,
                community="" if drop_admin or rng.random() < 0.5 else parts.community,
            )
        case "building_variant":
            mark = pick(rng, ("座", "幢", "号楼", "#", "栋楼"))
            return parts._replace(building=parts.building[:-1] + mark)
        case "chinese_numerals":
            return _numerals(parts)
        case "typo":
            return _typo(parts, rng)
        case "alias":
            return parts._replace(compound=parts.nickname or parts.compound)
        case "compound_only":
            return parts._replace(road="", door="")
        case "reorder":
            return parts._replace(road=parts.compound, door="", compound=parts.road + parts.door)
    return parts


def messy_address(parts: AddressParts, rng: np.random.Generator) -> tuple[str, str]:
    """Return (messy text, noise kinds joined by ``+``) for one record."""
    if rng.random() < 0.2:
        return parts.text(), "exact"
    kinds = sorted({pick(rng, NOISE_KINDS) for _ in range(1 + int(rng.random() < 0.4))})
    for kind in kinds:
        out = _apply(kind, parts, rng)
        if isinstance(out, AddressParts):
            parts = out
    text = parts.text()
    if "fullwidth" in kinds:
        text = text.translate(_FULLWIDTH)
    if "landmark" in kinds:
        text += f"（近{pick(rng, ROAD_STEMS)}{pick(rng, LANDMARKS)}）"
    if "phone" in kinds:
        text += f" 电话1{int(rng.integers(3, 10))}{int(rng.integers(0, 10**9)):09d}"
    return text, "+".join(kinds)
