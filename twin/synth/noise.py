"""Messy addresses as clerks type them, built from the parts of a standard address.

One record in five is typed exactly (``exact``); the others get one or two of
:data:`NOISE_KINDS`. The truth keeps the kinds, so that matching accuracy can be measured per
kind. Random draws are made per batch (one array per purpose), so the result of a record
depends only on its batch's stream and its place in the batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

NOISE_KINDS = (
    "missing_levels",  # no province/city, sometimes no street or community
    "building_variant",  # 3栋 → 3座, 3幢, 3号楼, 3#, 3栋楼
    "chinese_numerals",  # 3栋1203室 → 三栋一二〇三室
    "fullwidth",  # ASCII digits → full-width digits
    "typo",  # one character of the compound or road confused (园/源, 华/化...)
    "landmark",  # an extra landmark in brackets: （近上川地铁站）
    "phone",  # a phone number typed into the address
    "reorder",  # compound before road and door
    "alias",  # the compound's nickname or old name, or the road's old name
    "compound_only",  # no road and door
)
EXACT_SHARE = 0.2
TWO_KINDS_SHARE = 0.4
_DIGITS = "零一二三四五六七八九"
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_MARKS = ("座", "幢", "号楼", "#", "栋楼")
#: Characters clerks confuse (same sound or shape).
_CONFUSED = {
    "园": "源", "源": "园", "华": "化", "苑": "院", "庭": "廷", "城": "成", "湖": "胡",
    "海": "每", "景": "京", "新": "心", "安": "按", "宝": "保", "兴": "星", "丰": "风",
    "龙": "隆", "田": "甜", "山": "删", "翠": "萃", "川": "穿", "岗": "港", "围": "维",
    "福": "富", "和": "合", "民": "明", "业": "叶", "乐": "勒", "塘": "唐", "沙": "砂",
}  # fmt: skip
LANDMARKS = (
    "地铁站", "公交站", "人民医院", "万达广场", "天虹商场", "沃尔玛", "中心公园", "派出所",
    "图书馆", "体育馆", "加油站", "农贸市场", "小学", "公园",
)  # fmt: skip


class AddressParts(NamedTuple):
    """The parts of a standard address, coarse to fine, and the names it may be known by."""

    province_city: str
    district: str
    street: str
    community: str
    road: str
    door: str
    compound: str
    building: str
    unit: str
    room: str
    nickname: str = ""
    old_compound: str = ""
    old_road: str = ""

    def text(self) -> str:
        """Return the parts joined in the Shenzhen order."""
        return "".join(self[:10])


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


def _numerals(text: str) -> str:
    digits = "".join(c for c in text if c.isdigit())
    return text.replace(digits, chinese_number(int(digits)), 1) if digits else text


# Positions of the parts in an AddressParts (kept as a list while noise is applied).
_PROV, _STREET, _COMM, _ROAD, _DOOR, _COMP, _BLDG, _UNIT, _ROOM = 0, 2, 3, 4, 5, 6, 7, 8, 9
_NICK, _OLD_COMP, _OLD_ROAD = 10, 11, 12


def _typo(p: list[str], u: float) -> None:
    for field in (_COMP, _ROAD):
        text = p[field]
        spots = [i for i, c in enumerate(text) if c in _CONFUSED]
        if spots:
            i = spots[int(u * len(spots))]
            p[field] = text[:i] + _CONFUSED[text[i]] + text[i + 1 :]
            return


def _alias(p: list[str], u: float) -> None:
    if p[_OLD_ROAD] and u < 0.25:
        p[_ROAD] = p[_OLD_ROAD]
    elif p[_OLD_COMP] and u < 0.5:
        p[_COMP] = p[_OLD_COMP]
    elif p[_NICK]:
        p[_COMP] = p[_NICK]


def _apply(kind: str, p: list[str], u: float) -> None:
    """Apply one kind of noise to the parts ``p`` (in place); ``u`` is its uniform draw."""
    match kind:
        case "missing_levels":
            p[_PROV] = ""
            if u < 0.5:
                p[_STREET] = ""
            if u < 0.75:
                p[_COMM] = ""
        case "building_variant" if p[_BLDG]:
            p[_BLDG] = p[_BLDG][:-1] + _MARKS[int(u * len(_MARKS))]
        case "chinese_numerals":
            p[_BLDG], p[_UNIT], p[_ROOM] = map(_numerals, (p[_BLDG], p[_UNIT], p[_ROOM]))
        case "typo":
            _typo(p, u)
        case "alias":
            _alias(p, u)
        case "compound_only" if p[_COMP]:
            p[_ROAD] = p[_DOOR] = ""
        case "reorder" if p[_ROAD]:
            p[_ROAD], p[_DOOR], p[_COMP] = p[_COMP], "", p[_ROAD] + p[_DOOR]


def _combos() -> list[list[tuple[tuple[str, ...], str]]]:
    """For kind indices (a, b) (b = -1: none), the kinds in name order and their label."""
    out = []
    for a in NOISE_KINDS:
        row = []
        for b in (*NOISE_KINDS, None):
            kinds = tuple(sorted({a} | ({b} if b else set())))
            row.append((kinds, "+".join(kinds)))
        out.append(row)
    return out


_COMBOS = _combos()


def messy_addresses(
    parts: Sequence[Sequence[str]], rng: np.random.Generator, local: str
) -> list[tuple[str, str]]:
    """Return (messy text, noise kinds joined by ``+``) for a batch of records.

    Parameters
    ----------
    parts
        The standard address parts of each record, in the fields' order of
        :class:`AddressParts` (plain tuples will do).
    rng
        The batch's random stream.
    local
        A place name near the records, for landmarks (上川地铁站).

    Examples
    --------
    >>> p = AddressParts("广东省深圳市", "宝安区", "新安街道", "海滨社区", "翻身路", "45号",
    ...                  "碧海花园", "3栋", "2单元", "1203室", "碧海小区")
    >>> out = messy_addresses([p] * 50, np.random.default_rng(1), "海滨")
    >>> any(noise == "exact" and text == p.text() for text, noise in out)
    True
    """
    n = len(parts)
    exact = rng.random(n) < EXACT_SHARE
    first = rng.integers(len(NOISE_KINDS), size=n)
    second = np.where(rng.random(n) < TWO_KINDS_SHARE, rng.integers(len(NOISE_KINDS), size=n), -1)
    u = rng.random((n, 2)).tolist()
    phones = (rng.integers(3, 10, size=n) * 10**9 + rng.integers(0, 10**9, size=n)).tolist()
    marks = rng.integers(len(LANDMARKS), size=n).tolist()
    out = []
    for i, base in enumerate(parts):
        if exact[i]:
            out.append(("".join(base[:10]), "exact"))
            continue
        kinds, label = _COMBOS[first[i]][second[i]]
        p = list(base)
        for j, kind in enumerate(kinds):
            _apply(kind, p, u[i][j])
        text = "".join(p[:10])
        if "fullwidth" in kinds:
            text = text.translate(_FULLWIDTH)
        if "landmark" in kinds:
            text += f"（近{local}{LANDMARKS[marks[i]]}）"
        if "phone" in kinds:
            text += f" 电话1{phones[i]:010d}"
        out.append((text, label))
    return out
