"""Parse an address into its elements: the second step of the geocoding pipeline.

Three kinds of evidence, in order of trust:

1. the learned CRF (:mod:`geocode.crf`) labels every character of the normalised text;
2. the :class:`~geocode.lexicon.Lexicon` of known administrative names overrides it where a
   full name (宝安区, 新安街道, 海滨社区) sits between two of the model's own boundaries: the
   model says where the pieces are, the lexicon says what they are;
3. suffix rules that are certain after normalising: a number before 室 is a room (the CCKS
   corpus has no room numbers, so its model cannot know them);
4. a place named after a first, different compound is a sub-POI (:func:`mark_sub_pois`).

Element spans are found on the normalised text and mapped back to the original, so
``element.text == original[element.start:element.end]``.

Examples
--------
>>> p = parse("广东省深圳市宝安区新安街道海滨社区宝城76区翻身路45号富源大厦A座1203室")
>>> [e.text for e in p.elements][:5]
['广东省', '深圳市', '宝安区', '新安街道', '海滨社区']
>>> [e.kind for e in p.elements][:5]
['province', 'city', 'district', 'street', 'community']
>>> p.get("room"), p.get("building")
('1203室', 'A座')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from geocode.crf import CrfModel, tags_to_spans
from geocode.labels import ADMIN_ELEMENTS, to_element, to_label
from geocode.lexicon import admin_lexicon
from geocode.normalize import Normalized, normalize

if TYPE_CHECKING:
    from geocode.labels import Scheme
    from geocode.lexicon import Lexicon, LexMatch

#: A span on the normalised text: start, end, element, source (model, lexicon or rule).
_Span = tuple[int, int, str, str]

#: Certain patterns on normalised text (markers are already unified: 室, 栋, 单元, 层), and
#: whether they force their span (trimming the model's) or only fill text the model left
#: unlabelled.
_RULES: tuple[tuple[re.Pattern[str], str, bool], ...] = (
    (re.compile(r"(?<![0-9A-Z])[A-Z]?[0-9]+室"), "room", True),
    (re.compile(r"(?<![0-9A-Z])-?[0-9]+层"), "floor", False),
    (re.compile(r"(?<![0-9A-Z])[0-9]+单元"), "unit", False),
    (re.compile(r"(?<![0-9A-Z])[0-9A-Z]+栋"), "building", False),
)


@dataclass(frozen=True, slots=True)
class Element:
    """One element of a parsed address.

    Attributes
    ----------
    kind
        The element name (see :data:`geocode.labels.ELEMENTS`).
    text
        Its text in the original address.
    start, end
        Its place in the original address.
    value
        Its normalised text (宝安区, A栋, 12层).
    source
        ``model``, ``lexicon`` or ``rule``.
    """

    kind: str
    text: str
    start: int
    end: int
    value: str
    source: str


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """An address and its elements, in text order.

    Attributes
    ----------
    normalized
        The normaliser's result (normalised text, original, removals, offset map).
    elements
        The elements found.
    warnings
        The normaliser's warnings.
    """

    normalized: Normalized
    elements: list[Element] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def original(self) -> str:
        """The address as given."""
        return self.normalized.original

    def get(self, kind: str) -> str | None:
        """Return the original text of the first element of a kind, or ``None``."""
        for e in self.elements:
            if e.kind == kind:
                return e.text
        return None

    def as_dict(self) -> dict[str, str]:
        """Return ``{kind: normalised value}``; repeated kinds are joined in text order."""
        out: dict[str, str] = {}
        for e in self.elements:
            out[e.kind] = out.get(e.kind, "") + e.value
        return out


class AddressParser:
    """Normalise, tag with the CRF, correct with the lexicon and the rules.

    Parameters
    ----------
    model
        The CRF; its label scheme is the one it was trained on.
    lexicon
        Known names (default: none; :func:`default_parser` uses Shenzhen's admin names).
    strip_relative
        Passed to :func:`~geocode.normalize.normalize`: keep relative phrases (the default)
        to label them ``assist`` as the corpora do.
    """

    def __init__(
        self, model: CrfModel, lexicon: Lexicon | None = None, *, strip_relative: bool = False
    ) -> None:
        self.model = model
        self.lexicon = lexicon
        self.strip_relative = strip_relative

    @property
    def scheme(self) -> Scheme:
        """The label scheme of the model."""
        return self.model.scheme

    def parse(self, text: str) -> ParsedAddress:
        """Parse one address (any string; never raises on content)."""
        return self.parse_normalized(normalize(text, strip_relative=self.strip_relative))

    def parse_normalized(self, norm: Normalized) -> ParsedAddress:
        """Parse an address that is already normalised (the pipeline's form)."""
        text = norm.text
        spans: list[_Span] = [
            (a, b, to_element(label, self.scheme), "model")
            for a, b, label in tags_to_spans(self.model.tag(text))
        ]
        if self.lexicon is not None:
            spans = apply_lexicon(spans, self.lexicon.find_all(text))
        spans = mark_sub_pois(text, apply_rules(text, spans))
        elements = []
        for a, b, kind, source in spans:
            start, end = norm.to_original(a, b)
            elements.append(Element(kind, norm.original[start:end], start, end, text[a:b], source))
        return ParsedAddress(norm, elements, list(norm.warnings))

    def labelled(self, text: str, scheme: Scheme | None = None) -> dict[str, Any]:
        """Parse and write ``{"text", "spans": [{"label", "start", "end", "text"}]}``.

        Spans are on the original text, in ``scheme``'s labels (default: the model's);
        elements the scheme has no label for are left out.
        """
        return labelled_spans(self.parse(text), scheme or self.scheme)


def labelled_spans(parsed: ParsedAddress, scheme: Scheme) -> dict[str, Any]:
    """Write a parsed address in a corpus's label set (the ``twin parse`` line format).

    Examples
    --------
    >>> labelled_spans(parse("深圳市宝安区"), "ccks")["spans"][1]
    {'label': 'district', 'start': 3, 'end': 6, 'text': '宝安区'}
    """
    spans = []
    for e in parsed.elements:
        label = to_label(e.kind, scheme)
        if label is not None:
            spans.append({"label": label, "start": e.start, "end": e.end, "text": e.text})
    return {"text": parsed.original, "spans": spans}


def apply_lexicon(spans: list[_Span], matches: list[LexMatch]) -> list[_Span]:
    """Let full administrative names override the model where they fit its boundaries.

    A full name (with its suffix) that starts and ends where no model span is cut replaces
    the model's spans inside it. A district, street or community name that shares only its
    start or its end with a model span splits that span (宝安区政府 → 宝安区 + 政府); a city or
    province name does not (深圳市民中心 is one place). A span the model called ``redundant``
    is kept. Of overlapping full names, the longest wins.
    """
    certain = _longest_first([m for m in matches if m.is_full and m.level in ADMIN_ELEMENTS])
    for m in certain:
        spans = _override(spans, m)
    return sorted(spans)


def _override(spans: list[_Span], m: LexMatch) -> list[_Span]:
    """Put one lexicon match into the spans, if it fits (see :func:`apply_lexicon`)."""
    cut_start, cut_end = _cutting(spans, m.start), _cutting(spans, m.end)
    if cut_start and cut_end:
        return spans
    if cut_start or cut_end:
        span = cut_start or cut_end
        if m.level in ("province", "city") or span is None or span[2] == "redundant":
            return spans
        if span[0] < m.start and span[1] > m.end:
            return spans
    inside = [s for s in spans if s[1] > m.start and s[0] < m.end]
    if any(s[2] == "redundant" for s in inside) or inside == [(m.start, m.end, m.level, "model")]:
        return spans
    kept = [s for s in spans if s not in inside]
    for s in inside:  # keep the parts of a split span outside the name
        if s[0] < m.start:
            kept.append((s[0], m.start, s[2], s[3]))
        if s[1] > m.end:
            kept.append((m.end, s[1], s[2], s[3]))
    return [*kept, (m.start, m.end, m.level, "lexicon")]


def apply_rules(text: str, spans: list[_Span]) -> list[_Span]:
    """Apply the certain suffix patterns (:data:`_RULES`).

    A forcing rule trims what it overlaps; a filling rule only labels text that no span
    covers (the CCKS model, which never saw rooms, leaves ``12层1203室`` unlabelled).
    """
    for pattern, kind, force in _RULES:
        for m in pattern.finditer(text):
            a, b = m.span()
            overlapping = [s for s in spans if s[1] > a and s[0] < b]
            if not overlapping:
                spans = [*spans, (a, b, kind, "rule")]
            elif force and overlapping != [(a, b, kind, "model")]:
                spans = [*_trim(spans, a, b), (a, b, kind, "rule")]
    return sorted(spans)


def mark_sub_pois(text: str, spans: list[_Span]) -> list[_Span]:
    """Call a place named after a first, different compound a sub-POI (a place inside it).

    Both corpora label most such places ``subpoi``; the model, which sees a few characters
    around each one, often calls them ``poi``. The same name again stays a POI, and so does
    a place after a road or door number (宝城76区翻身路45号富源大厦: 富源大厦 is on its road).

    Examples
    --------
    >>> text = "翠苑0区A座华联超市"
    >>> mark_sub_pois(text, [(0, 2, "poi", "model"), (2, 4, "poi", "model"),
    ...                      (4, 6, "building", "model"), (6, 10, "poi", "model")])[1:]
    [(2, 4, 'sub_poi', 'model'), (4, 6, 'building', 'model'), (6, 10, 'sub_poi', 'model')]
    """
    first: str | None = None
    out: list[_Span] = []
    for a, b, kind, source in spans:
        if kind in ("road", "door"):  # a place on a road of its own is not inside the first
            first = None
        if kind == "poi" and first is None:
            first = text[a:b]
        elif kind == "poi" and text[a:b] != first:
            kind = "sub_poi"
        out.append((a, b, kind, source))
    return out


def _trim(spans: list[_Span], a: int, b: int) -> list[_Span]:
    """Cut ``[a, b)`` out of the spans, keeping what lies outside it."""
    kept: list[_Span] = []
    for s in spans:
        if s[1] <= a or s[0] >= b:
            kept.append(s)
            continue
        if s[0] < a:
            kept.append((s[0], a, s[2], s[3]))
        if s[1] > b:
            kept.append((b, s[1], s[2], s[3]))
    return kept


def _cutting(spans: list[_Span], pos: int) -> _Span | None:
    """Return the span that ``pos`` falls strictly inside, if any."""
    for s in spans:
        if s[0] < pos < s[1]:
            return s
    return None


def _longest_first(matches: list[LexMatch]) -> list[LexMatch]:
    """Keep the longest of overlapping matches (earlier first on ties)."""
    chosen: list[LexMatch] = []
    for m in sorted(matches, key=lambda m: (m.start - m.end, m.start)):
        if all(m.end <= c.start or m.start >= c.end for c in chosen):
            chosen.append(m)
    return sorted(chosen, key=lambda m: m.start)


@cache
def default_parser(scheme: Scheme = "ccks") -> AddressParser:
    """Return the parser with the shipped model of ``scheme`` and Shenzhen's admin names."""
    return AddressParser(CrfModel.shipped(scheme), admin_lexicon())


def parse(text: str, scheme: Scheme = "ccks") -> ParsedAddress:
    """Parse one address with :func:`default_parser`.

    Parameters
    ----------
    text
        The address, as given.
    scheme
        Which shipped model to use: ``ccks`` (the default: it knows intersections, distances
        and village groups) or ``naacl`` (it knows rooms, sub-roads and persons).

    Returns
    -------
    ParsedAddress
    """
    return default_parser(scheme).parse(text)
