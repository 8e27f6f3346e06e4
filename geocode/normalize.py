"""Normalise messy Chinese address text: the first step of the geocoding pipeline.

:func:`normalize` is pure and fast (it runs on millions of rows). It returns a
:class:`Normalized` that keeps the original text, what was removed (with its place in the
original) and an offset map, so that a span found on the normalised text maps back to the
original with :meth:`Normalized.to_original`.

The steps, in order (see docs/geocoder.md for the full rules):

1. one character for one character: full-width → half-width, ASCII letters upper-cased,
   traditional → simplified (OpenCC's character table), one form for brackets, dashes, dots;
2. removals and rewrites, repeated until nothing changes: control characters and emoji,
   whitespace, phone numbers, bracketed notes, relative phrases ("近…", "…旁", "…对面"),
   repeated separators, Chinese numerals before a marker (二十三栋 → 23栋), and one marker per
   element (座/幢/号楼/# → 栋, 楼/F → 层, 房/户 → 室).

Only phone numbers ever take digits away: a bracket or a phrase that holds a digit is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from geocode import numerals
from geocode.charmap import CHAR_TABLE

if TYPE_CHECKING:
    from collections.abc import Callable

#: Kinds of removal that deserve a warning (whitespace and separators are silent).
WARNED_KINDS = frozenset({"phone", "note", "relative", "emoji", "control"})

#: Separators that are collapsed when repeated and trimmed at both ends.
SEPARATORS = ",;:/|_。、\\"
_SEP_CLASS = "[" + re.escape(SEPARATORS) + "]"

_CONTROL = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\xad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\ufffd-\uffff\ud800-\udfff\ue000-\uf8ff"
    "\U000e0000-\U000e007f\U000f0000-\U0010ffff]+"
)
_EMOJI = re.compile(
    "[\u20e3\u2190-\u21ff\u2300-\u23ff\u2460-\u24ff\u25a0-\u27bf\u2900-\u297f\u2b00-\u2bff"
    "\u3030\u303d\u3297\u3299\ufe00-\ufe0f\U0001f000-\U0001faff\U000e0100-\U000e01ef]+"
)
_WHITESPACE = re.compile(r"\s+")
_PHONE = re.compile(
    r"(?:(?:联系)?(?:电话|手机|TEL|PHONE|MOBILE)(?:号码?)?:?)?"
    r"(?:(?<![0-9])(?:\+?86-?)?1[3-9][0-9](?:[- ]?[0-9]{4}){2}(?![0-9])"
    r"|(?<![0-9])0[0-9]{2,3}-[0-9]{7,8}(?:-[0-9]{1,5})?(?![0-9]))"
)
#: A bracket that holds one of these is address text, not a note: keep it, drop the marks.
_ADDRESS_IN_BRACKET = re.compile(r"[0-9]|[A-Z一二三四五六七八九十](?:栋|座|幢|单元|层|楼|室|号)")
_NEAR = re.compile(
    rf"(?<={_SEP_CLASS})(?:靠近|临近|邻近|紧邻|近)[^{re.escape(SEPARATORS)}0-9]*(?=$|{_SEP_CLASS})"
)
_BESIDE = re.compile(rf"(?:斜对面|正对面|对面|旁边|隔壁|附近|周边|旁)+(?=$|{_SEP_CLASS})")
_REPEATED_SEP = re.compile(rf"(?<={_SEP_CLASS})[{re.escape(SEPARATORS)}\-]+|-(?=-)")
_EDGE_SEP = re.compile(rf"^[{re.escape(SEPARATORS)}\- ]+|[{re.escape(SEPARATORS)}\- ]+$")
# 号楼 is a building only where a name does not go on after it: 79号楼岗村 is door 79 of 楼岗村.
_BUILDING = re.compile(
    r"(?<=[0-9A-Z])(?:(?:号楼|#楼)(?![\u3400-\u9fff])|(?:号楼|#楼)(?=[单层室])|#|座|幢)"
)
_BUILDING_LOU = re.compile(r"(?<=[0-9])楼(?=[0-9]*单元)")
_FLOOR = re.compile(r"(?<=[0-9])(?:楼|F)")
_ROOM = re.compile(r"(?<=[0-9])(?:房|户)(?![0-9]厅)")


@dataclass(frozen=True, slots=True)
class Removed:
    """A piece of the original text that normalising took away.

    Attributes
    ----------
    kind
        ``phone``, ``note`` (a bracket with no address in it), ``relative`` ("近…", "旁"),
        ``emoji``, ``control``, ``whitespace``, ``separator`` or ``bracket`` (bracket marks
        around address text that was kept).
    text
        The removed text, as in the original.
    start, end
        Its place in the original text.
    """

    kind: str
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Normalized:
    """The normalised text, the original, what was removed and the offset map.

    Attributes
    ----------
    text
        The normalised text.
    original
        The input, unchanged.
    removed
        What was taken away, in the order it was found.
    warnings
        One sentence per removal worth telling a user about.
    starts, ends
        For each character of ``text``, the original span it comes from.
    """

    text: str
    original: str
    removed: list[Removed] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list, repr=False)
    ends: list[int] = field(default_factory=list, repr=False)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span ``[start, end)`` of :attr:`text` to its span in :attr:`original`.

        Examples
        --------
        >>> n = normalize("宝安区（近地铁站）翻身路四十五号")
        >>> n.text
        '宝安区翻身路45号'
        >>> s, e = n.to_original(6, 9)
        >>> n.original[s:e]
        '四十五号'
        """
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span {start}-{end} is outside the normalised text")
        if start == end:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        return self.starts[start], self.ends[end - 1]


@dataclass(slots=True)
class _State:
    text: str
    original: str
    starts: list[int]
    ends: list[int]
    removed: list[Removed]


#: An edit found by a rule: start, end (on the current text), replacement, kind of removal.
_Edit: TypeAlias = tuple[int, int, str, str]
if TYPE_CHECKING:
    _Rule: TypeAlias = Callable[[str], list[_Edit]]


def normalize(text: str, *, strip_relative: bool = True) -> Normalized:
    """Normalise one address.

    Parameters
    ----------
    text
        Any string: it never raises.
    strip_relative
        Remove relative phrases ("近地铁站", "…旁", "…对面"). The geocoder wants them gone;
        ``twin parse`` keeps them to label them as the corpora do (``assist``).

    Returns
    -------
    Normalized
        The normalised text with the original, the removals, warnings and offset map.

    Examples
    --------
    >>> normalize("廣東省深圳市寶安區翻身路４５號富源大廈Ａ座十二樓1203房").text
    '广东省深圳市宝安区翻身路45号富源大厦A栋12层1203室'
    >>> normalize("南山区科技园 (靠近地铁站) 电话13812345678").removed[-1].kind
    'phone'
    """
    mapped = text.translate(CHAR_TABLE)
    n = len(mapped)
    st = _State(mapped, text, list(range(n)), list(range(1, n + 1)), [])
    rules = _RULES if strip_relative else _RULES_KEEP_RELATIVE
    for _ in range(4):  # passes until nothing changes; rules rarely enable each other
        changed = False
        for rule in rules:
            edits = rule(st.text)
            if edits:
                _commit(st, edits)
                changed = True
        if not changed:
            break
    removed = sorted(st.removed, key=lambda r: (r.start, r.end))
    return Normalized(st.text, text, removed, _warnings(removed), st.starts, st.ends)


def _commit(st: _State, edits: list[_Edit]) -> None:
    """Apply non-overlapping, ordered edits to the state and its offset map."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for a, b, new, kind in edits:
        pieces.append(st.text[pos:a])
        starts.extend(st.starts[pos:a])
        ends.extend(st.ends[pos:a])
        o_a, o_b = st.starts[a], st.ends[b - 1]
        if new:
            pieces.append(new)
            starts.extend([o_a] * len(new))
            ends.extend([o_b] * len(new))
        elif kind:
            st.removed.append(Removed(kind, st.original[o_a:o_b], o_a, o_b))
        pos = b
    pieces.append(st.text[pos:])
    starts.extend(st.starts[pos:])
    ends.extend(st.ends[pos:])
    st.text, st.starts, st.ends = "".join(pieces), starts, ends


def _sub(
    pattern: re.Pattern[str],
    new: str | Callable[[re.Match[str]], str],
    kind: str = "",
    triggers: str = "",
) -> _Rule:
    """Make a rule that replaces every match of ``pattern`` (by a string or a function).

    ``triggers`` are characters one of which every match holds: a text with none of them is
    skipped without running the pattern (most rows skip most rules).
    """

    def rule(text: str) -> list[_Edit]:
        if triggers and not any(c in text for c in triggers):
            return []
        if pattern.search(text) is None:
            return []
        edits = []
        for m in pattern.finditer(text):
            repl = new if isinstance(new, str) else new(m)
            if repl != m.group() and m.end() > m.start():
                edits.append((m.start(), m.end(), repl, kind))
        return edits

    return rule


def _control(text: str) -> list[_Edit]:
    edits = [(m.start(), m.end(), "", "control") for m in _CONTROL.finditer(text)]
    edits += [(m.start(), m.end(), "", "emoji") for m in _EMOJI.finditer(text)]
    return _disjoint(edits)


def _whitespace(text: str) -> list[_Edit]:
    if _WHITESPACE.search(text) is None:
        return []
    edits = []
    for m in _WHITESPACE.finditer(text):
        a, b = m.span()
        between_words = (
            0 < a
            and b < len(text)
            and text[a - 1].isascii()
            and text[a - 1].isalnum()
            and text[b].isascii()
            and text[b].isalnum()
        )
        if not between_words:
            edits.append((a, b, "", "whitespace"))
        elif m.group() != " ":
            edits.append((a, b, " ", ""))
    return edits


def _brackets(text: str) -> list[_Edit]:
    """Drop notes in brackets; keep address text in brackets without the marks.

    Brackets nest: a pair whose content (nested pairs included) holds no address text goes
    whole; otherwise only its two marks go and its inner pairs are judged the same way.
    Unmatched marks go too.
    """
    if "(" not in text and ")" not in text:
        return []
    stack: list[int] = []
    pairs: dict[int, int] = {}
    stray: list[int] = []
    for i, c in enumerate(text):
        if c == "(":
            stack.append(i)
        elif c == ")":
            if stack:
                pairs[stack.pop()] = i
            else:
                stray.append(i)
    stray += stack
    edits: list[_Edit] = [(i, i + 1, "", "bracket") for i in stray]
    skip_until = -1
    for open_at in sorted(pairs):
        if open_at < skip_until:
            continue
        close_at = pairs[open_at]
        if _ADDRESS_IN_BRACKET.search(text, open_at + 1, close_at):
            edits.append((open_at, open_at + 1, "", "bracket"))
            edits.append((close_at, close_at + 1, "", "bracket"))
        else:
            edits.append((open_at, close_at + 1, "", "note"))
            skip_until = close_at
    return _disjoint(edits)


def _disjoint(edits: list[_Edit]) -> list[_Edit]:
    """Sort edits and drop any that falls inside an earlier one."""
    out: list[_Edit] = []
    for edit in sorted(edits):
        if not out or edit[0] >= out[-1][1]:
            out.append(edit)
    return out


def _chinese_numbers(text: str) -> list[_Edit]:
    return [(a, b, digits, "") for a, b, digits in numerals.find_numbers(text)]


_RULES_KEEP_RELATIVE: list[_Rule] = [
    _control,
    _whitespace,
    _sub(_PHONE, "", "phone", triggers="-0123456789"),
    _brackets,
    _sub(_REPEATED_SEP, "", "separator"),
    _sub(_EDGE_SEP, "", "separator"),
    _chinese_numbers,
    _sub(_BUILDING_LOU, "栋", triggers="楼"),
    _sub(_BUILDING, "栋", triggers="楼#座幢"),
    _sub(_FLOOR, "层", triggers="楼F"),
    _sub(_ROOM, "室", triggers="房户"),
]
_RULES: list[_Rule] = [
    *_RULES_KEEP_RELATIVE[:4],
    _sub(_NEAR, "", "relative", triggers="近邻"),
    _sub(_BESIDE, "", "relative", triggers="面旁壁近边"),
    *_RULES_KEEP_RELATIVE[4:],
]

_WARNING_TEXT = {
    "phone": "removed a phone number",
    "note": "removed a note in brackets",
    "relative": "removed a relative phrase (the address is near, not at, the place named)",
    "emoji": "removed emoji or symbols",
    "control": "removed control or invisible characters",
}


def _warnings(removed: list[Removed]) -> list[str]:
    out = []
    for r in removed:
        if r.kind in WARNED_KINDS:
            out.append(f"{_WARNING_TEXT[r.kind]}: {r.text!r}")
    return out
