"""Masking of personal data in outputs: names, ID numbers, phone numbers, free text.

Every function here

- returns a string and never raises, whatever it is given (``None`` gives ``""``);
- is idempotent: masking a masked value changes nothing;
- hides rather than shows when in doubt: what it does not recognise is masked all but its
  last two characters.

Full-width digits (``１３８…``, as typed with Chinese input methods) count as digits.
"""

from __future__ import annotations

import re
import unicodedata

from twin.codes import id_birth_date, id_check_char, is_valid_id_number

#: Two-character surnames kept whole by :func:`mask_name`.
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "令狐", "夏侯", "端木", "独孤", "南宫", "西门", "澹台", "轩辕",
        "呼延", "申屠", "闻人", "司空", "万俟", "钟离", "赫连", "濮阳", "太史", "第五",
    }
)  # fmt: skip
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
#: Kept in Chinese names: the middle dots of transcribed names (买买提·吐尔逊) and spaces.
_NAME_SEPARATORS = frozenset("·•・‧ \u3000")
#: Full-width digits and X, mapped one character to one so that positions are kept.
_FULLWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
_ID_MASKED = re.compile(r"[0-9]{6}(?:\*{8}[0-9]{3}[0-9Xx]|\*{6}[0-9]{3})")
_CC = r"(?P<cc>(?:\+|00)?86)"
_MOBILE = re.compile(rf"{_CC}?(?P<a>1[3-9][0-9])(?:[0-9]{{4}}|\*{{4}})(?P<c>[0-9]{{4}})")
_LANDLINE = re.compile(
    rf"{_CC}?(?P<trunk>0?)(?P<area>10|2[0-9]|[3-9][0-9]{{2}})"
    r"(?P<local>[2-9][0-9]{6,7}|\*{5,6}[0-9]{2})"
)
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
#: Mobile numbers come before old ID numbers, so that ``0086`` + 11 digits is a phone.
_IN_TEXT = re.compile(
    r"""(?<![0-9])(?:
        (?P<id18>[0-9]{17}[0-9Xx])
      | (?:(?:\+|00)?86[ -]?)?
        1[3-9][0-9](?P<sep>[ -]?)(?P<middle>[0-9]{4})(?P=sep)[0-9]{4}
      | (?P<id15>[0-9]{15})
    )(?![0-9])""",
    re.VERBOSE,
)


def _keep_last_two(s: str) -> str:
    return "*" * (len(s) - 2) + s[-2:] if len(s) > 2 else s


def _in_word(c: str) -> bool:
    return c.isalnum() or c == "*" or unicodedata.category(c).startswith("M")


def mask_name(name: str | None) -> str:
    """Mask a person's name, keeping the family name or initials.

    A name that starts with a Chinese character keeps its family name (the first character,
    or the first two for a compound surname such as 欧阳 when the name is longer than two
    characters) and has every other character but middle dots and spaces replaced by ``*``.
    Any other name keeps the first letter or digit of each word.

    Examples
    --------
    >>> mask_name("张三"), mask_name("欧阳娜娜"), mask_name("买买提·吐尔逊")
    ('张*', '欧阳**', '买**·***')
    >>> mask_name("John Ronald Tolkien"), mask_name("O'Brien")
    ('J*** R***** T******', "O'B****")
    """
    s = (name or "").strip()
    if not s:
        return ""
    if _HAN.match(s):
        keep = 2 if len(s) > 2 and s[:2] in COMPOUND_SURNAMES else 1
        return s[:keep] + "".join(c if c in _NAME_SEPARATORS else "*" for c in s[keep:])
    out = []
    for i, c in enumerate(s):
        word_start = i == 0 or not _in_word(s[i - 1])
        out.append("*" if c.isalnum() and not word_start else c)
    return "".join(out)


def mask_id_number(number: str | None) -> str:
    """Mask a resident ID number, keeping its place code and its last four characters.

    An 18-character number with a valid check character keeps its first 6 and last 4
    characters (the birth date and nothing else is hidden); an old 15-digit number with a
    plausible birth date keeps its first 6 and last 3. Spaces and hyphens inside are dropped
    and ``x`` is written ``X``. Anything else is masked all but its last 2 characters.

    Examples
    --------
    >>> mask_id_number("44030619900101123-6")
    '440306********1236'
    >>> mask_id_number("11010519491231002x")
    '110105********002X'
    >>> mask_id_number("440306900101123")
    '440306******123'
    >>> mask_id_number("A1234567")
    '******67'
    """
    s = (number or "").translate(_FULLWIDTH).strip()
    compact = re.sub(r"[\s\-]", "", s)
    if _ID_MASKED.fullmatch(compact):
        return compact.upper()
    if is_valid_id_number(compact):
        return compact[:6] + "*" * 8 + compact[14:].upper()
    if len(compact) == 15 and id_birth_date(compact) is not None:
        return compact[:6] + "*" * 6 + compact[12:]
    return _keep_last_two(s)


def mask_phone(number: str | None) -> str:
    """Mask a phone number.

    A mainland mobile number (11 digits, ``1[3-9]…``) keeps its first 3 and last 4 digits; a
    landline with its area code (``0755-…``) keeps the area code and the last 2 digits.
    Either may carry the country code (``+86``, ``0086`` or ``86``), written ``+86 `` in the
    result; spaces, hyphens, dots and brackets inside are dropped. Anything else is masked
    all but its last 2 characters.

    Examples
    --------
    >>> mask_phone("13812345678"), mask_phone("+86 138-1234-5678")
    ('138****5678', '+86 138****5678')
    >>> mask_phone("(0755) 8765 4321"), mask_phone("010-62345678")
    ('0755-******21', '010-******78')
    >>> mask_phone("12345")
    '***45'
    """
    s = (number or "").translate(_FULLWIDTH).strip()
    compact = _PHONE_PUNCTUATION.sub("", s)
    if m := _MOBILE.fullmatch(compact):
        cc = "+86 " if m["cc"] else ""
        return f"{cc}{m['a']}****{m['c']}"
    m = _LANDLINE.fullmatch(compact)
    if m and (m["cc"] or m["trunk"]):
        cc = "+86 " if m["cc"] else ""
        return f"{cc}{m['trunk']}{m['area']}-{_keep_last_two(m['local'])}"
    return _keep_last_two(s)


def _mask_match(m: re.Match[str], text: str) -> str:
    start, end = m.span()
    if m["id18"] is not None:
        if id_check_char(m["id18"][:17]) != m["id18"][17].upper():
            return text[start:end]
        return text[start : start + 6] + "*" * 8 + text[start + 14 : end]
    if m["id15"] is not None:
        if id_birth_date(m["id15"]) is None:
            return text[start:end]
        return text[start : start + 6] + "*" * 6 + text[start + 12 : end]
    middle, middle_end = m.span("middle")
    return text[start:middle] + "****" + text[middle_end:end]


def mask_text(text: str | None) -> str:
    """Mask the ID numbers and mobile numbers inside free text, leaving the rest as it is.

    Found and masked in place, when not part of a longer run of digits:

    - 18-character ID numbers with a valid check character: the birth date is hidden;
    - old 15-digit ID numbers with a plausible birth date: the birth date is hidden;
    - mobile numbers ``1[3-9]`` + 9 digits, possibly after ``+86``/``0086``/``86`` and
      possibly written 3-4-4 with spaces or hyphens: the middle 4 digits are hidden.

    For logs, and for addresses that clerks typed with a phone number inside.

    Examples
    --------
    >>> mask_text("宝安区新安街道 张三 13812345678 身份证440306199001011236")
    '宝安区新安街道 张三 138****5678 身份证440306********1236'
    >>> mask_text("call +86 138-1234-5678, order 1381234567890")
    'call +86 138-****-5678, order 1381234567890'
    """
    s = text or ""
    # Masking may leave a kept tail that starts a new match (the ``139`` of
    # ``440306******139 1234 5678``): mask until nothing changes, at most once per digit.
    while (masked := _mask_once(s)) != s:
        s = masked
    return s


def _mask_once(s: str) -> str:
    out, done = [], 0
    for m in _IN_TEXT.finditer(s.translate(_FULLWIDTH)):
        out += [s[done : m.start()], _mask_match(m, s)]
        done = m.end()
    return "".join([*out, s[done:]])
