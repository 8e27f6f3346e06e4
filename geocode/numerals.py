"""Chinese numerals that are numbers: find them and write them in digits.

A run of Chinese numerals is a number when an element marker follows it (三楼, 二十三栋,
一〇二室, 第五期) or when it stands in a door-number position right after a road (深南大道一〇二).
Elsewhere it is part of a name (三元里, 十里铺, 八一新村) and stays as it is.
"""

from __future__ import annotations

import re

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_DIGITS.update({"七": 7, "八": 8, "九": 9})
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL = "零〇一二三四五六七八九十百千"
#: Markers after which a numeral run is a number (the order matters: 号楼 before 号).
MARKERS: tuple[str, ...] = ("号楼", "号", "栋", "座", "幢", "单元", "层", "楼", "室", "房", "户")
MARKERS += ("巷", "弄", "期", "区", "组")
_BEFORE_MARKER = re.compile(rf"(?<![{_NUMERAL}])[{_NUMERAL}]+(?=(?:{'|'.join(MARKERS)}|#|F))")
_DOOR = re.compile(rf"(?<=[路街道巷弄])[{_NUMERAL}]+(?=$|[,;:/|_。、\-])")
_POSITIONAL = re.compile("[零〇一二三四五六七八九]+")
_WITH_UNITS = re.compile(
    "^(?:[一二三四五六七八九两]?千)?(?:零?[一二三四五六七八九两]?百)?"
    "(?:零?[一二三四五六七八九两]?十)?(?:零?[一二三四五六七八九])?$"
)


def to_digits(numeral: str) -> str | None:
    """Write a Chinese numeral in digits, or ``None`` when it is not a well-formed number.

    Parameters
    ----------
    numeral
        Chinese numeral characters only.

    Returns
    -------
    str or None
        The digits.

    Examples
    --------
    >>> to_digits("二十三"), to_digits("一〇二"), to_digits("十二"), to_digits("一百零五")
    ('23', '102', '12', '105')
    >>> to_digits("十十") is None
    True
    """
    if not numeral:
        return None
    if _POSITIONAL.fullmatch(numeral):
        return "".join(str(_DIGITS[c]) for c in numeral)
    if not _WITH_UNITS.match(numeral):
        return None
    total, current = 0, 0
    for c in numeral:
        if c in _UNITS:
            total += (current or 1) * _UNITS[c]
            current = 0
        elif c != "零" and c != "〇":
            current = _DIGITS[c]
    return str(total + current)


def find_numbers(text: str) -> list[tuple[int, int, str]]:
    """Find the numeral runs of ``text`` that are numbers.

    Parameters
    ----------
    text
        Normalised address text.

    Returns
    -------
    list of (start, end, digits)
        Non-overlapping, in order.

    Examples
    --------
    >>> find_numbers("三元里二十三栋三楼")
    [(3, 6, '23'), (7, 8, '3')]
    >>> find_numbers("深南大道一〇二")
    [(4, 7, '102')]
    """
    found = []
    for pattern in (_BEFORE_MARKER, _DOOR):
        if pattern.search(text) is None:
            continue
        for m in pattern.finditer(text):
            digits = to_digits(m.group())
            if digits is not None:
                found.append((m.start(), m.end(), digits))
    found.sort()
    out: list[tuple[int, int, str]] = []
    for item in found:
        if not out or item[0] >= out[-1][1]:
            out.append(item)
    return out
