"""The one-character-for-one-character table of the normaliser.

Full-width forms become half-width, ASCII letters upper case, traditional characters
simplified (the first choice of OpenCC's ``TSCharacters`` table, shipped in the
``opencc-python-reimplemented`` wheel: no download), and brackets, dashes, dots and spaces take
one form each. The table maps one character to one character, so the offsets of the text do
not move, and applying it twice changes nothing.
"""

from __future__ import annotations

from importlib import resources

from twin.errors import ConfigError

#: Opening and closing brackets, folded to ASCII ``(`` and ``)``.
_OPEN = "（［｛【〔〖〘〚「『[{"
_CLOSE = "）］｝】〕〗〙〛」』]}"
#: Dashes and minus signs, folded to ``-``.
_DASHES = "‐‑‒–—―−﹣－ー"
#: Middle dots, folded to ``·``.
_DOTS = "•‧・･∙⋅"
#: Spaces that ``str.isspace`` may or may not know, folded to a plain space.
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_SPACES += "\u202f\u205f\u3000"


def _opencc_table() -> dict[int, str]:
    """Traditional → simplified, one character each, closed under itself."""
    try:
        path = resources.files("opencc").joinpath("dictionary", "TSCharacters.txt")
        lines = path.read_text(encoding="utf-8").splitlines()
    except (ModuleNotFoundError, FileNotFoundError) as exc:  # pragma: no cover - install issue
        raise ConfigError(
            "the traditional-to-simplified table is missing: install opencc-python-reimplemented"
        ) from exc
    first: dict[str, str] = {}
    for line in lines:
        source, _, targets = line.partition("\t")
        target = targets.split(" ")[0]
        if len(source) == 1 and len(target) == 1 and source != target:
            first[source] = target
    table: dict[int, str] = {}
    for source, target in first.items():
        seen = {source}
        while target in first and target not in seen:  # follow chains to a fixed point
            seen.add(target)
            target = first[target]
        table[ord(source)] = target
    return table


def _build() -> dict[int, str]:
    table = _opencc_table()
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII block
        table[code] = chr(code - 0xFEE0).upper()
    for code in range(ord("a"), ord("z") + 1):
        table[code] = chr(code).upper()
    for chars, target in ((_OPEN, "("), (_CLOSE, ")"), (_DASHES, "-"), (_DOTS, "·")):
        table.update({ord(c): target for c in chars})
    table.update({ord(c): " " for c in _SPACES})
    table.update({ord("～"): "~", ord("〜"): "~", ord("＃"): "#", ord("﹟"): "#"})
    table.update({ord("，"): ",", ord("；"): ";", ord("："): ":", ord("／"): "/"})
    # Keep the table closed: a target that is itself a source maps on to its own target.
    for code, target in list(table.items()):
        if ord(target) in table and ord(target) != code:
            table[code] = table[ord(target)]
    return table


#: ``str.translate`` table: apply with ``text.translate(CHAR_TABLE)``.
CHAR_TABLE: dict[int, str] = _build()
