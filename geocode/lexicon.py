"""Known names per address level, and the suffix rules of Chinese address elements.

A :class:`Lexicon` answers one question: which known names occur in a text, at which level.
:class:`MemoryLexicon` is the in-memory implementation, built from lists of names;
:func:`admin_lexicon` builds one from the project's reference data of Shenzhen's districts,
streets and communities (``data/admin``). The address library can offer the same interface
later with its roads, compounds and aliases.

Each name is known in its full form (宝安区, 新安街道, 海滨社区) and, where safe, in a short form
without its suffix (宝安, 新安, 海滨). A full form is *certain*: the parser lets it override the
learned model. A short form is only evidence.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable

#: The project's reference data (``data/admin`` beside the packages).
DEFAULT_ADMIN_DIR = Path(__file__).resolve().parents[1] / "data" / "admin"

#: Suffixes that end a name of each element, longest first within each element.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "province": ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省"),
    "city": ("自治州", "地区", "盟", "市"),
    "district": ("自治县", "自治旗", "新区", "区", "县", "旗", "市"),
    "street": ("街道办事处", "街道", "镇", "乡"),
    "community": ("居民委员会", "村民委员会", "社区", "村"),
    "road": ("大道", "路", "街", "巷", "弄"),
    "door": ("号",),
    "building": ("栋", "座", "幢", "号楼"),
    "unit": ("单元",),
    "floor": ("层", "楼"),
    "room": ("室", "房", "户"),
}

_COMMITTEE = re.compile(r"(?:居民委员会|村民委员会|居委会|村委会)$")
_ETHNIC = re.compile(r"^(.{2,}?)(?:[^族]{1,6}族)+自治(?:州|县|旗|区)$")


class LexMatch(NamedTuple):
    """A known name found in a text.

    Attributes
    ----------
    start, end
        Its place in the text.
    level
        The element it names (``province``, ``city``, ``district``, ``street``, ``community``...).
    name
        The canonical full name (宝安区 for a match of 宝安).
    is_full
        The text holds the full name with its suffix, not a short form.
    """

    start: int
    end: int
    level: str
    name: str
    is_full: bool


class Lexicon(Protocol):
    """Known names per level."""

    def find_all(self, text: str) -> list[LexMatch]:
        """Find every occurrence of a known name in ``text`` (overlaps included), in order."""
        ...


def strip_suffix(name: str, level: str) -> str | None:
    """Return the short form of ``name`` without its level's suffix (``None`` when unsafe).

    Parameters
    ----------
    name
        A full name.
    level
        Its element.

    Returns
    -------
    str or None
        The short form, at least two characters long.

    Examples
    --------
    >>> strip_suffix("新安街道", "street"), strip_suffix("宝安区", "district")
    ('新安', '宝安')
    >>> strip_suffix("红河哈尼族彝族自治州", "city")
    '红河'
    >>> strip_suffix("沙井街道", "street"), strip_suffix("东区", "district")
    ('沙井', None)
    """
    ethnic = _ETHNIC.match(name)
    if ethnic:
        return ethnic.group(1)
    for suffix in SUFFIXES.get(level, ()):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


def element_by_suffix(word: str) -> str | None:
    """Return the element that ``word``'s suffix names, or ``None``.

    Examples
    --------
    >>> element_by_suffix("翻身路"), element_by_suffix("1203室"), element_by_suffix("富源")
    ('road', 'room', None)
    """
    best: tuple[int, str] | None = None
    for level, suffixes in SUFFIXES.items():
        for suffix in suffixes:
            if word.endswith(suffix) and len(word) > len(suffix):
                if best is None or len(suffix) > best[0]:
                    best = (len(suffix), level)
    return best[1] if best else None


class MemoryLexicon:
    """A :class:`Lexicon` held in memory: a dictionary of names and a set of their prefixes.

    Parameters
    ----------
    names
        ``(level, full name)`` pairs; short forms are added by :func:`strip_suffix` unless
        ``short_forms`` is false. A short form that is also another name's full form is
        left out.
    short_forms
        Add the short forms.

    Examples
    --------
    >>> lex = MemoryLexicon([("district", "宝安区"), ("street", "新安街道")])
    >>> [(m.start, m.end, m.name, m.is_full) for m in lex.find_all("宝安新安街道")]
    [(0, 2, '宝安区', False), (2, 4, '新安街道', False), (2, 6, '新安街道', True)]
    """

    def __init__(self, names: Iterable[tuple[str, str]], *, short_forms: bool = True) -> None:
        full: dict[str, set[tuple[str, str, bool]]] = {}
        short: dict[str, set[tuple[str, str, bool]]] = {}
        for level, name in names:
            if len(name) < 2:
                continue
            full.setdefault(name, set()).add((level, name, True))
            alias = strip_suffix(name, level) if short_forms else None
            if alias:
                short.setdefault(alias, set()).add((level, name, False))
        for alias, entries in short.items():
            if alias not in full:
                full[alias] = entries
        self._names = {k: sorted(v) for k, v in full.items()}
        self._prefixes = {k[:i] for k in self._names for i in range(1, len(k) + 1)}

    def __len__(self) -> int:
        return len(self._names)

    def levels(self, name: str) -> list[tuple[str, str, bool]]:
        """Return ``(level, canonical name, is_full)`` for each entry that ``name`` spells."""
        return list(self._names.get(name, ()))

    def find_all(self, text: str) -> list[LexMatch]:
        """Find every occurrence of a known name in ``text`` (overlaps included), in order."""
        out: list[LexMatch] = []
        prefixes, names = self._prefixes, self._names
        n = len(text)
        for i in range(n - 1):
            if text[i] not in prefixes:
                continue
            j = i + 2
            while j <= n:
                piece = text[i:j]
                if piece not in prefixes:
                    break
                if piece in names:
                    out += [LexMatch(i, j, *entry) for entry in names[piece]]
                j += 1
        return out


def read_admin_names(data_dir: Path | None = None) -> list[tuple[str, str]]:
    """Read ``(level, name)`` of Shenzhen's districts, streets and communities.

    Community names drop their committee suffix and end in 社区 (海滨社区居民委员会 → 海滨社区,
    小梅沙居委会 → 小梅沙社区). The province and the city are added, and functional areas
    (大鹏新区) count as districts.

    Parameters
    ----------
    data_dir
        Folder of ``sz_areas.csv``, ``sz_streets.csv``, ``sz_villages.csv`` and
        ``functional_areas.csv`` (default: the project's ``data/admin``).

    Returns
    -------
    list of (level, name)
    """
    data_dir = data_dir or DEFAULT_ADMIN_DIR
    out = [("province", "广东省"), ("city", "深圳市")]
    for level, file in (
        ("district", "sz_areas.csv"),
        ("street", "sz_streets.csv"),
        ("community", "sz_villages.csv"),
        ("district", "functional_areas.csv"),
    ):
        path = data_dir / file
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                out.append(
                    (
                        level,
                        _community_name(row["name"])
                        if level == "community"
                        else row["name"].strip(),
                    )
                )
    return out


def _community_name(raw: str) -> str:
    name = _COMMITTEE.sub("", raw.strip())
    return name if name.endswith(("社区", "村")) else name + "社区"


def admin_lexicon(data_dir: Path | None = None) -> MemoryLexicon:
    """Build a lexicon of Shenzhen's administrative names from the reference data.

    Parameters
    ----------
    data_dir
        Folder of the reference files (default: the project's ``data/admin``).

    Returns
    -------
    MemoryLexicon

    Examples
    --------
    >>> lex = admin_lexicon()
    >>> sorted({m.level for m in lex.find_all("宝安区新安街道海滨社区")})
    ['community', 'district', 'street']
    """
    return MemoryLexicon(read_admin_names(data_dir))
