"""The project's address elements and their mapping to the labels of the two public corpora.

The parser speaks in the project's own element names (:data:`ELEMENTS`). ``twin parse
--labels ccks|naacl`` writes them in the label set of CCKS 2021 (Chinese address element
parsing, the GeoGLUE GeoETA task) or of NAACL 2019 ("Neural Chinese Address Parsing").

Each corpus label names exactly one element (:data:`CCKS_TO_ELEMENT`,
:data:`NAACL_TO_ELEMENT`); writing goes the other way, and an element the set lacks either
falls back to the nearest label (:data:`CCKS_FALLBACK`, :data:`NAACL_FALLBACK`) or is left
unlabelled. docs/geocoder.md has the table.
"""

from __future__ import annotations

from typing import Literal

#: The elements, coarse to fine, then the phrases that are not levels.
ELEMENTS: tuple[str, ...] = (
    "country",
    "province",
    "city",
    "district",
    "devzone",
    "street",
    "community",
    "village_group",
    "road",
    "door",
    "sub_road",
    "sub_door",
    "intersection",
    "poi",
    "sub_poi",
    "building",
    "unit",
    "floor",
    "room",
    "distance",
    "assist",
    "person",
    "redundant",
    "other",
)

#: The administrative elements (the ones a lexicon of administrative names knows).
ADMIN_ELEMENTS = frozenset({"province", "city", "district", "street", "community"})

Scheme = Literal["ccks", "naacl"]
SCHEMES: tuple[Scheme, ...] = ("ccks", "naacl")

CCKS_TO_ELEMENT: dict[str, str] = {
    "prov": "province",
    "city": "city",
    "district": "district",
    "devzone": "devzone",
    "town": "street",
    "community": "community",
    "village_group": "village_group",
    "road": "road",
    "roadno": "door",
    "intersection": "intersection",
    "poi": "poi",
    "subpoi": "sub_poi",
    "houseno": "building",
    "cellno": "unit",
    "floorno": "floor",
    "distance": "distance",
    "assist": "assist",
}
NAACL_TO_ELEMENT: dict[str, str] = {
    "country": "country",
    "prov": "province",
    "city": "city",
    "district": "district",
    "devzone": "devzone",
    "town": "street",
    "community": "community",
    "road": "road",
    "subroad": "sub_road",
    "roadno": "door",
    "subroadno": "sub_door",
    "poi": "poi",
    "subpoi": "sub_poi",
    "houseno": "building",
    "cellno": "unit",
    "floorno": "floor",
    "roomno": "room",
    "person": "person",
    "assist": "assist",
    "redundant": "redundant",
    "otherinfo": "other",
}
#: Elements CCKS has no label for, written as a near label (the rest are left unlabelled:
#: country, room, person, redundant, other).
CCKS_FALLBACK: dict[str, str] = {"sub_road": "road", "sub_door": "roadno"}
#: Elements NAACL has no label for. Its guideline labels a village group (5组) as a road.
NAACL_FALLBACK: dict[str, str] = {
    "village_group": "road",
    "intersection": "assist",
    "distance": "assist",
}

_TO_ELEMENT: dict[str, dict[str, str]] = {"ccks": CCKS_TO_ELEMENT, "naacl": NAACL_TO_ELEMENT}
_FALLBACK: dict[str, dict[str, str]] = {"ccks": CCKS_FALLBACK, "naacl": NAACL_FALLBACK}


def to_element(label: str, scheme: Scheme) -> str:
    """Return the element a corpus label names.

    Parameters
    ----------
    label
        A label of the scheme (case does not matter: NAACL's files spell ``devZone``).
    scheme
        ``ccks`` or ``naacl``.

    Returns
    -------
    str
        The element, ``other`` for an unknown label.

    Examples
    --------
    >>> to_element("town", "ccks"), to_element("roomno", "naacl"), to_element("subRoad", "naacl")
    ('street', 'room', 'sub_road')
    """
    return _TO_ELEMENT[scheme].get(label.lower(), "other")


def to_label(element: str, scheme: Scheme) -> str | None:
    """Return the corpus label for an element, or ``None`` when the set has none.

    Examples
    --------
    >>> to_label("street", "ccks"), to_label("room", "ccks"), to_label("village_group", "naacl")
    ('town', None, 'road')
    """
    for label, elem in _TO_ELEMENT[scheme].items():
        if elem == element:
            return label
    return _FALLBACK[scheme].get(element)


def scheme_labels(scheme: Scheme) -> tuple[str, ...]:
    """Return the labels of a scheme, in the order of :data:`ELEMENTS`."""
    order = {e: i for i, e in enumerate(ELEMENTS)}
    return tuple(sorted(_TO_ELEMENT[scheme], key=lambda label: order[_TO_ELEMENT[scheme][label]]))
