"""The learned part of the parser: a linear-chain CRF over characters (CRFsuite).

Each character gets string features (:func:`char_features`): the character and its
neighbours, character bigrams and trigrams, the character type, the next and previous
address-suffix character (路, 号, 栋…) and its distance, BIES positions of gazetteer matches
(province, city, district and street names of all China, Shenzhen's communities: short and full
forms), and whether a piece of text repeats elsewhere in the address. Digits are masked to
``0`` (the CCKS corpus masks them), so the model sees number shapes, not values.

A model is a CRFsuite file plus a JSON metadata file beside it (scheme, labels, feature
groups, training data, scores). :meth:`CrfModel.load` reads a shipped model from
``geocode/models/``; nothing is fetched at run time. ``python -m geocode.train`` makes them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geocode.lexicon import MemoryLexicon
from twin.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from geocode.labels import Scheme

#: Where the shipped models live.
MODEL_DIR = Path(__file__).resolve().parent / "models"
#: The shipped gazetteer of the features: ``level<TAB>name`` lines.
GAZETTEER_FILE = "gazetteer.tsv.gz"
#: Bump when the meaning of a feature changes: a model made with another version is refused.
FEATURE_VERSION = 1
#: All feature groups; a model's metadata names the ones it was trained with.
FEATURE_GROUPS: tuple[str, ...] = (
    "chars",
    "suffix",
    "gazetteer",
    "repeat",
    "number",
    "context",
    "spans",
    "ccks",
    "stack",
)
#: The file beside a model that holds its span lexicon (``ccks.spans.tsv.gz``).
SPANS_SUFFIX = ".spans.tsv.gz"
#: The file beside a stacked model that holds its first stage (``ccks.first.crfsuite``).
FIRST_SUFFIX = ".first.crfsuite"
#: The model whose tags the ``ccks`` group reads: the CCKS 2021 model, beside the model that
#: uses it (or in :data:`MODEL_DIR`).
GUIDE_FILE = "ccks.crfsuite"

#: Characters that end an address element: the "next/previous suffix" features look for them.
SUFFIX_CHARS = frozenset("省市区县镇乡街道路号栋幢座楼层室单元村组社弄巷里园苑城厦场店司院馆站期")
_MASK = str.maketrans("123456789", "000000000")
_PAD = ("<s2>", "<s1>")
_END = ("</s1>", "</s2>")


def char_type(c: str) -> str:
    """Name the kind of a character: H(an), D(igit), L(atin), S(eparator) or O(ther).

    Examples
    --------
    >>> "".join(char_type(c) for c in "宝0A-·")
    'HDLSO'
    """
    if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf":
        return "H"
    if c.isdigit():
        return "D"
    if c.isascii() and c.isalpha():
        return "L"
    if c in ",;:/|_-()#~.、。 ":
        return "S"
    return "O"


def char_features(
    text: str,
    gazetteer: MemoryLexicon | None,
    groups: Sequence[str] = FEATURE_GROUPS,
    spans: SpanLexicon | None = None,
) -> list[list[str]]:
    """Compute the feature strings of every character of ``text``.

    Parameters
    ----------
    text
        Normalised address text.
    gazetteer
        Names whose matches become BIES features (``None``: no gazetteer features).
    groups
        Feature groups to compute (see :data:`FEATURE_GROUPS`).
    spans
        Labelled spans of a training split whose matches become BIES features per label
        (``None``: no span features).

    Returns
    -------
    list of list of str
        One list per character.

    Examples
    --------
    >>> feats = char_features("翻身路45号", None)
    >>> "c0=0" in feats[3], "nx=号" in feats[3]
    (True, True)
    """
    t = text.translate(_MASK)
    n = len(t)
    padded = [*_PAD, *t, *_END]
    types = [char_type(c) for c in t]
    out: list[list[str]] = []
    for i in range(n):
        out.append(_window(padded, i + 2) if "chars" in groups else [])
        out[i] += ["b", "ty=" + "".join(types[max(0, i - 1) : i + 2]) + ("^" if i == 0 else "")]
    if n:
        out[0].append("BOS")
        out[-1].append("EOS")
    if "suffix" in groups:
        _suffix_features(t, out)
    if "gazetteer" in groups and gazetteer is not None:
        _gazetteer_features(t, gazetteer, out)
    if "repeat" in groups:
        _repeat_features(t, types, out)
    if "number" in groups:
        _number_features(t, out)
    if "context" in groups:
        _context_features(t, out)
    if "spans" in groups and spans is not None:
        for start, end, label in spans.find_all(t):
            tag = "L" + label
            out[start].append(tag + "-B")
            for k in range(start + 1, end - 1):
                out[k].append(tag + "-I")
            out[end - 1].append(tag + "-E")
    return out


def stack_features(tags: Sequence[str], out: list[list[str]]) -> None:
    """Add a first stage's tags to the features (the ``stack`` group), in place.

    Each character gets the first stage's tags at -2…+2 and two tag pairs, the label and
    length of the first stage's span around it, the labels of the spans just before and
    after it and of every span before it (a second place after a compound is a sub-POI): a
    second stage sees whole elements where the first saw characters.

    Examples
    --------
    >>> out = [[], [], []]
    >>> stack_features(["B-road", "E-road", "S-roadno"], out)
    >>> "s0=E-road" in out[1], "sn=roadno" in out[1], "sq=road" in out[2], "sb=road" in out[2]
    (True, True, True, True)
    """
    n = len(tags)
    padded = ["^", "^", *tags, "$", "$"]
    spans = tags_to_spans(tags)
    span_at: list[int] = [-1] * n
    for k, (start, end, _) in enumerate(spans):
        span_at[start:end] = [k] * (end - start)
    seen: list[str] = []  # labels of the spans that end before character i
    for i in range(n):
        a, b, c, d, e = padded[i : i + 5]
        out[i] += [f"s0={c}", f"s-1={b}", f"s1={d}", f"s-2={a}", f"s2={e}", *seen]
        out[i] += [f"s-1s0={b}|{c}", f"s0s1={c}|{d}"]
        k = span_at[i]
        if k < 0:  # outside every span: the spans on either side
            before = [s for s in spans if s[1] <= i]
            after = [s for s in spans if s[0] > i]
            out[i] += [
                "sq=" + (before[-1][2] if before else "^"),
                "sn=" + (after[0][2] if after else "$"),
            ]
            continue
        start, end, label = spans[k]
        out[i] += [
            f"sl={label}{min(end - start, 9)}",
            "sq=" + (spans[k - 1][2] if k > 0 else "^"),
            "sn=" + (spans[k + 1][2] if k + 1 < len(spans) else "$"),
        ]
        if i == end - 1 and f"sb={label}" not in seen:
            seen.append(f"sb={label}")


def guide_features(tags: Sequence[str], out: list[list[str]]) -> None:
    """Add another corpus's model's tags to the features (the ``ccks`` group), in place.

    The CCKS 2021 model was trained on a second corpus of 8,856 addresses with its own
    conventions: its tag at -1…+1, the pair at 0/+1, and the label and length of its span
    around the character and the labels of the spans before and after it tell the NAACL
    model what the other annotators would have said.

    Examples
    --------
    >>> out = [[], [], []]
    >>> guide_features(["B-road", "E-road", "S-roadno"], out)
    >>> "x0=E-road" in out[1], "xl=road2" in out[1], "xn=roadno" in out[1], "xq=road" in out[2]
    (True, True, True, True)
    """
    padded = ["^", *tags, "$"]
    for i in range(len(tags)):
        out[i] += [
            "x0=" + padded[i + 1],
            "x-1=" + padded[i],
            "x1=" + padded[i + 2],
            f"x01={padded[i + 1]}|{padded[i + 2]}",
        ]
    spans = tags_to_spans(tags)
    for k, (start, end, label) in enumerate(spans):
        before = spans[k - 1][2] if k else "^"
        after = spans[k + 1][2] if k + 1 < len(spans) else "$"
        marks = [f"xl={label}{min(end - start, 9)}", "xq=" + before, "xn=" + after]
        for i in range(start, end):
            out[i] += marks


def _window(p: list[str], j: int) -> list[str]:
    """Make unigrams in a window of ±2, bigrams and trigrams around padded position ``j``."""
    a, b, c, d, e = p[j - 2], p[j - 1], p[j], p[j + 1], p[j + 2]
    return [
        "c0=" + c,
        "c-1=" + b,
        "c1=" + d,
        "c-2=" + a,
        "c2=" + e,
        "b-2=" + a + b,
        "b-1=" + b + c,
        "b0=" + c + d,
        "b1=" + d + e,
        "t-2=" + a + b + c,
        "t-1=" + b + c + d,
        "t0=" + c + d + e,
    ]


def _suffix_features(t: str, out: list[list[str]]) -> None:
    """Add the next and previous suffix character within seven characters, and the distance."""
    n = len(t)
    nxt = [n] * (n + 1)
    for i in range(n - 1, -1, -1):
        nxt[i] = i if t[i] in SUFFIX_CHARS else nxt[i + 1]
    prev = -1
    for i in range(n):
        k = nxt[i + 1]
        if k - i < 8 and k < n:
            out[i] += ["nx=" + t[k], f"nxd={t[k]}{k - i}"]
        if prev >= 0 and i - prev < 8:
            out[i].append("pv=" + t[prev])
        if t[i] in SUFFIX_CHARS:
            prev = i


def _gazetteer_features(t: str, gazetteer: MemoryLexicon, out: list[list[str]]) -> None:
    """Add BIES positions of every gazetteer match, by level and by full or short form.

    A name met again (杭州市 … 杭州) also says whether this is its first or a later occurrence.
    """
    matches = gazetteer.find_all(t)
    first_end: dict[str, int] = {}
    for m in matches:
        first_end.setdefault(m.name, m.end)
    for m in matches:
        tag = ("G" if m.is_full else "g") + m.level[:4]
        out[m.start].append(tag + "-B")
        for k in range(m.start + 1, m.end - 1):
            out[k].append(tag + "-I")
        out[m.end - 1].append(tag + "-E")
        if m.start >= first_end[m.name]:
            out[m.start].append(tag + "-again")


def _repeat_features(t: str, types: list[str], out: list[list[str]]) -> None:
    """Add whether a Han bigram or trigram at this character occurs earlier or later.

    Repeated administrative names ("浙江省杭州市浙江省杭州市") are labelled differently on
    their first and later occurrences in one of the corpora.
    """
    n = len(t)
    for i in range(n):
        if types[i] != "H":
            continue
        for a, b in ((i, i + 2), (i - 1, i + 1), (i, i + 3), (i - 1, i + 2), (i - 2, i + 1)):
            if a < 0 or b > n:
                continue
            w = t[a:b]
            if t.find(w) < a:
                out[i].append(f"rp{b - a}{a - i}")
            if t.find(w, a + 1) != -1:
                out[i].append(f"rn{b - a}{a - i}")


_NUMBER_RUN = re.compile(r"[0-9A-Z]+(?:-[0-9A-Z]+)*")


def _number_features(t: str, out: list[list[str]]) -> None:
    """Add the shape of number runs: length, place in a dash chain (12-3-1001), neighbours.

    A window of two characters cannot see that 1001 is the third group of 12-3-1001 (a room)
    or what follows a long number.
    """
    for chain in _NUMBER_RUN.finditer(t):
        groups = chain.group().split("-")
        after = t[chain.end()] if chain.end() < len(t) else "$"
        before = t[chain.start() - 1] if chain.start() > 0 else "^"
        pos = chain.start()
        for k, group in enumerate(groups):
            where = f"ng={min(k, 3)}/{min(len(groups), 4)}"
            size = f"nl={min(len(group), 5)}"
            for j in range(len(group)):
                out[pos + j] += [where, size, "na=" + after, "nb=" + before, f"{where}{after}"]
            pos += len(group) + 1


#: Element markers whose presence before (or after) a character is a feature.
_CONTEXT = (
    ("prov", re.compile("省")),
    ("city", re.compile("市")),
    ("dist", re.compile("[区县]")),
    ("town", re.compile("镇|乡|街道")),
    ("road", re.compile("[路街巷弄]|大道")),
    ("door", re.compile("0+号")),
    ("poi", re.compile("小区|花园|大厦|广场|中心|[园苑城]|公司|厂|市场|大楼")),
    ("bld", re.compile("[0-9A-Z]+栋")),
    ("unit", re.compile("单元")),
    ("floor", re.compile("0+层")),
)


def _context_features(t: str, out: list[list[str]]) -> None:
    """Add which kinds of element marker occur anywhere before and after each character."""
    found: list[tuple[int, int, str]] = []
    for name, pattern in _CONTEXT:
        found += [(m.start(), m.end(), name) for m in pattern.finditer(t)]
    if not found:
        return
    n = len(t)
    seen_at: list[set[str]] = [set() for _ in range(n + 1)]
    ahead_at: list[set[str]] = [set() for _ in range(n + 1)]
    for start, end, name in found:
        seen_at[end].add(name)  # seen from position `end` on
        ahead_at[start].add(name)  # ahead of every position before `start`
    seen: set[str] = set()
    before: list[str] = []
    for i in range(n):  # markers that end at or before i
        if seen_at[i] - seen:
            seen |= seen_at[i]
            before = sorted("sn=" + name for name in seen)
        out[i] += before
    ahead: set[str] = set()
    after: list[str] = []
    for i in range(n - 1, -1, -1):  # markers that start after i
        if ahead_at[i + 1] - ahead:
            ahead |= ahead_at[i + 1]
            after = sorted("ah=" + name for name in ahead)
        out[i] += after


def tags_to_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Read spans ``(start, end, label)`` from BIES (or BIO) tags; a stray I or E opens one.

    Examples
    --------
    >>> tags_to_spans(["B-road", "E-road", "S-roadno", "O", "I-poi", "E-poi"])
    [(0, 2, 'road'), (2, 3, 'roadno'), (4, 6, 'poi')]
    """
    spans: list[tuple[int, int, str]] = []
    start, label = -1, ""
    for i, tag in enumerate(tags):
        prefix, _, lab = tag.partition("-")
        if start >= 0 and (prefix in ("B", "S", "O") or lab != label):
            spans.append((start, i, label))
            start = -1
        if prefix in ("B", "S", "I", "E") and start < 0:
            start, label = i, lab
        if prefix in ("S", "E") and start >= 0:
            spans.append((start, i + 1, label))
            start = -1
    if start >= 0:
        spans.append((start, len(tags), label))
    return spans


def spans_to_tags(n: int, spans: Sequence[tuple[int, int, str]]) -> list[str]:
    """Write BIES tags for ``n`` characters from non-overlapping spans.

    Examples
    --------
    >>> spans_to_tags(4, [(0, 3, "road"), (3, 4, "roadno")])
    ['B-road', 'I-road', 'E-road', 'S-roadno']
    """
    tags = ["O"] * n
    for start, end, label in spans:
        if end - start == 1:
            tags[start] = "S-" + label
        elif end > start:
            tags[start] = "B-" + label
            tags[start + 1 : end - 1] = ["I-" + label] * (end - start - 2)
            tags[end - 1] = "E-" + label
    return tags


def mask_digits(text: str) -> str:
    """Mask the digits 1-9 to 0, as the features see them.

    Examples
    --------
    >>> mask_digits("12栋")
    '00栋'
    """
    return text.translate(_MASK)


def _key(text: str) -> int:
    """Hash a text as :meth:`SpanLexicon.find_all` does: CRC-32 of its UTF-32-LE bytes."""
    return zlib.crc32(text.encode("utf-32-le"))


_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")


class SpanLexicon:
    """The labelled spans of a training split, as hashes: the "spans" feature group.

    For each label, the longest known span of that label that starts at a character becomes
    BIES features (a road name met in training, a compound's name). Only CRC-32 hashes of
    the (normalised, digit-masked) span texts and of their prefixes are kept, so the file
    that ships beside a model holds no text of the corpus.

    Parameters
    ----------
    names
        ``(label, hash)`` pairs.
    prefixes
        Hashes of every prefix of every name (the names included).

    Examples
    --------
    >>> lex = SpanLexicon.from_spans([("road", "翻身路"), ("poi", "富源大厦"), ("road", "翻身")])
    >>> lex.find_all("宝安翻身路00号富源大厦")
    [(2, 5, 'road'), (8, 12, 'poi')]
    """

    def __init__(self, names: Iterable[tuple[str, int]], prefixes: Iterable[int]) -> None:
        self._names: dict[int, list[str]] = {}
        for label, key in names:
            labels = self._names.setdefault(key, [])
            if label not in labels:
                labels.append(label)
        self._prefixes = frozenset(prefixes)

    @classmethod
    def from_spans(cls, spans: Iterable[tuple[str, str]]) -> SpanLexicon:
        """Build from ``(label, text)`` pairs.

        Texts shorter than two characters or without a Han character (number runs, which
        the number features describe) are left out.
        """
        pairs = {(label, text) for label, text in spans if len(text) >= 2 and _HAN.search(text)}
        prefixes = {_key(text[:i]) for _, text in pairs for i in range(2, len(text) + 1)}
        return cls(((label, _key(text)) for label, text in pairs), prefixes)

    def __len__(self) -> int:
        return len(self._names)

    def find_all(self, text: str) -> list[tuple[int, int, str]]:
        """Return, per start and label, the longest known span ``(start, end, label)``."""
        out: list[tuple[int, int, str]] = []
        prefixes, names = self._prefixes, self._names
        n = len(text)
        data = text.encode("utf-32-le")
        crc = zlib.crc32
        for i in range(n - 1):
            longest: dict[str, int] = {}
            key = crc(data[4 * i : 4 * i + 4])
            for j in range(i + 2, n + 1):
                key = crc(data[4 * j - 4 : 4 * j], key)
                if key not in prefixes:
                    break
                for label in names.get(key, ()):
                    longest[label] = j
            out += [(i, j, label) for label, j in longest.items()]
        return out

    def save(self, path: Path) -> None:
        """Write ``n<TAB>label<TAB>hash`` and ``p<TAB><TAB>hash`` lines, gzipped."""
        with gzip.open(path, "wt", encoding="ascii", compresslevel=9) as fh:
            for key, labels in sorted(self._names.items()):
                fh.writelines(f"n\t{label}\t{key:x}\n" for label in labels)
            fh.writelines(f"p\t\t{key:x}\n" for key in sorted(self._prefixes))

    @classmethod
    def load(cls, path: Path) -> SpanLexicon:
        """Read a file written by :meth:`save`."""
        names: list[tuple[str, int]] = []
        prefixes: list[int] = []
        with gzip.open(path, "rt", encoding="ascii") as fh:
            for line in fh:
                kind, label, key = line.rstrip("\n").split("\t")
                if kind == "n":
                    names.append((label, int(key, 16)))
                else:
                    prefixes.append(int(key, 16))
        return cls(names, prefixes)


@cache
def load_gazetteer(path: Path | None = None) -> MemoryLexicon:
    """Read the feature gazetteer (``geocode/models/gazetteer.tsv.gz`` unless ``path`` is given)."""
    path = path or MODEL_DIR / GAZETTEER_FILE
    if not path.exists():
        raise ConfigError(f"the parser's gazetteer {path} is missing: run python -m geocode.train")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        names = [tuple(line.rstrip("\n").split("\t", 1)) for line in fh if "\t" in line]
    return MemoryLexicon((level, name) for level, name in names)


class CrfModel:
    """A trained CRF tagger with its metadata.

    Parameters
    ----------
    path
        The CRFsuite model file; its metadata is the ``.json`` file beside it.
    gazetteer
        The feature gazetteer (default: the shipped one).

    Raises
    ------
    ConfigError
        When a file is missing or the model was made with other features.
    """

    def __init__(self, path: Path, gazetteer: MemoryLexicon | None = None) -> None:
        import pycrfsuite  # type: ignore[import-untyped]

        meta_path = path.with_suffix(".json")
        if not path.exists() or not meta_path.exists():
            raise ConfigError(f"the parser model {path} is missing: run python -m geocode.train")
        self.meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        if self.meta.get("feature_version") != FEATURE_VERSION:
            raise ConfigError(
                f"the parser model {path.name} was made with other features: "
                "run python -m geocode.train"
            )
        self.scheme: Scheme = self.meta["scheme"]
        self.groups: tuple[str, ...] = tuple(self.meta["feature_groups"])
        if unknown := set(self.groups) - set(FEATURE_GROUPS):
            raise ConfigError(
                f"the parser model {path.name} needs feature groups this version does not "
                f"know ({', '.join(sorted(unknown))}): run python -m geocode.train"
            )
        self.gazetteer = gazetteer if gazetteer is not None else load_gazetteer()
        self.spans: SpanLexicon | None = None
        if "spans" in self.groups:
            self.spans = SpanLexicon.load(_beside(path, SPANS_SUFFIX, "span lexicon"))
        self._guide: CrfModel | None = None
        self._guide_reuses = False
        if "ccks" in self.groups:
            self._guide = _guide_for(path, self.meta, self.gazetteer)
            self._guide_reuses = set(self._guide.groups) <= set(self.groups) - _NOT_SHARED
        self._first = None
        if "stack" in self.groups:
            self._first = pycrfsuite.Tagger()
            self._first.open(str(_beside(path, FIRST_SUFFIX, "first stage")))
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open(str(path))

    @classmethod
    def shipped(cls, scheme: Scheme) -> CrfModel:
        """Load the model shipped for a label scheme (``geocode/models/<scheme>.crfsuite``)."""
        return _shipped(scheme)

    def features(self, text: str) -> list[list[str]]:
        """Compute the features this model expects for ``text``."""
        return char_features(text, self.gazetteer, self.groups, self.spans)

    def tag(self, text: str) -> list[str]:
        """Tag every character of ``text`` with BIES tags in the model's label scheme."""
        if not text:
            return []
        features = self.features(text)
        if self._guide is not None:
            guide = self._guide
            said = guide.tag_features(features) if self._guide_reuses else guide.tag(text)
            guide_features(said, features)
        if self._first is not None:
            stack_features(self._first.tag(features), features)
        tags: list[str] = self._tagger.tag(features)
        return tags

    def tag_features(self, features: list[list[str]]) -> list[str]:
        """Tag features already computed (a model without ``ccks`` or ``stack`` groups).

        Features of groups the model was not trained with are ignored by CRFsuite, so a
        model that guides another can read the other model's features.
        """
        tags: list[str] = self._tagger.tag(features)
        return tags


#: Groups whose features depend on more than the text: a guide never reads them.
_NOT_SHARED = frozenset({"spans", "ccks", "stack"})


def file_digest(path: Path) -> str:
    """Return the SHA-256 of a file (how a model names the guide it was trained with)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def guide_path(path: Path) -> Path:
    """Return the guide model of the model at ``path``: beside it, else the shipped one."""
    beside = path.parent / GUIDE_FILE
    return beside if beside.exists() else MODEL_DIR / GUIDE_FILE


def _guide_for(path: Path, meta: dict[str, Any], gazetteer: MemoryLexicon) -> CrfModel:
    """Load the guide of a ``ccks``-group model, refusing one it was not trained with."""
    guide = guide_path(path)
    if not guide.exists():
        raise ConfigError(
            f"the parser model's guide {guide} is missing: run python -m geocode.train"
        )
    expected = (meta.get("guide") or {}).get("sha256")
    if expected != file_digest(guide):
        raise ConfigError(
            f"the parser model {path.name} was trained with another {guide.name}: "
            "run python -m geocode.train naacl"
        )
    model = CrfModel(guide, gazetteer)
    if "ccks" in model.groups:
        raise ConfigError(f"the guide {guide.name} is itself guided: run python -m geocode.train")
    return model


def _beside(path: Path, suffix: str, what: str) -> Path:
    """Return the file of a model's part beside it (``ccks.first.crfsuite``), or raise."""
    part = path.with_suffix(suffix)
    if not part.exists():
        raise ConfigError(
            f"the parser model's {what} {part} is missing: run python -m geocode.train"
        )
    return part


@cache
def _shipped(scheme: Scheme) -> CrfModel:
    return CrfModel(MODEL_DIR / f"{scheme}.crfsuite")
