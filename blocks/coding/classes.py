"""The classification of geographic entities: 9 major, 32 medium and 128 minor classes.

The classes follow GB/T 13923 (基础地理信息要素分类与代码): its eight major classes keep
their numbers (1 positioning bases, 2 water, 3 settlements and facilities, 4 transport,
5 pipelines, 6 boundaries and administrative areas, 7 landforms, 8 vegetation and soil), and a
ninth holds city parts (9 城市部件: hydrants, manhole covers, lamps, cameras, lifts...). Codes
are refined level by level in 4 digits, major (1) + medium (1) + minor (2), padded with zeros
above the minor level: ``3000`` settlements and facilities, ``3100`` buildings, ``3101``
residential building. Entities are coded with minor classes only.

The table lives in ``data/entity_classes.csv`` (columns ``code, level, parent, name_zh,
name_en, geometry``); :func:`read_classes` reads and checks it. Loading it into
``twin.entity_class`` is the repository's job.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from blocks.errors import EntityClassError

#: The project's classification file, beside the packages.
DEFAULT_CLASSES_CSV = Path(__file__).resolve().parents[2] / "data" / "entity_classes.csv"
#: How many classes each level has (the district plan's 9 / 32 / 128).
LEVEL_COUNTS = {"major": 9, "medium": 32, "minor": 128}
#: The geometry a class expects; ``any`` accepts every kind.
GEOMETRY_TYPES = ("point", "line", "polygon", "any")
CLASS_CODE_LENGTH = 4
_COLUMNS = ("code", "level", "parent", "name_zh", "name_en", "geometry")
_KINDS = {
    "point": ("Point", "MultiPoint"),
    "line": ("LineString", "MultiLineString", "LinearRing"),
    "polygon": ("Polygon", "MultiPolygon"),
}


@dataclass(frozen=True)
class EntityClass:
    """One class of the classification."""

    code: str
    level: str
    parent_code: str | None
    name_zh: str
    name_en: str
    geometry_type: str

    def accepts(self, geom_type: str) -> bool:
        """Whether a shapely ``geom_type`` (``"MultiPolygon"``...) fits the class.

        Examples
        --------
        >>> c = EntityClass("9101", "minor", "9100", "消防栓", "Fire hydrant", "point")
        >>> c.accepts("Point"), c.accepts("Polygon")
        (True, False)
        """
        return self.geometry_type == "any" or geom_type in _KINDS[self.geometry_type]


def expected_shape(code: str, level: str) -> str | None:
    """Return the parent code that a class code implies, or raise if the code is malformed.

    Raises
    ------
    EntityClassError
        When the code does not spell its level (X000 major, XY00 medium, XYNN minor).

    Examples
    --------
    >>> expected_shape("3101", "minor"), expected_shape("3100", "medium")
    ('3100', '3000')
    """
    ok = len(code) == CLASS_CODE_LENGTH and code.isdigit() and code[0] != "0"
    if ok and level == "major" and code.endswith("000"):
        return None
    if ok and level == "medium" and code.endswith("00") and code[1] != "0":
        return code[0] + "000"
    if ok and level == "minor" and code[2:] != "00":
        return code[:2] + "00"
    raise EntityClassError(
        f"class code {code!r} does not spell a {level} class: majors are X000, mediums XY00 "
        "and minors XYNN (NN 01-99), all 4 digits"
    )


def _row(number: int, rec: dict[str, str]) -> EntityClass:
    code, level = rec["code"].strip(), rec["level"].strip()
    if level not in LEVEL_COUNTS:
        raise EntityClassError(
            f"class row {number}: level {level!r} is none of {list(LEVEL_COUNTS)}"
        )
    parent = expected_shape(code, level)
    given = rec["parent"].strip() or None
    if given != parent:
        raise EntityClassError(f"class {code}: parent {given!r} should be {parent!r}")
    geometry = rec["geometry"].strip()
    if geometry not in GEOMETRY_TYPES:
        raise EntityClassError(f"class {code}: geometry {geometry!r} is none of {GEOMETRY_TYPES}")
    zh, en = rec["name_zh"].strip(), rec["name_en"].strip()
    if not zh or not en:
        raise EntityClassError(f"class {code}: both a Chinese and an English name are needed")
    return EntityClass(code, level, parent, zh, en, geometry)


def check_classes(classes: list[EntityClass]) -> None:
    """Check a whole classification: unique codes, parents present, level counts, geometries.

    Raises
    ------
    EntityClassError
        On the first problem, in one sentence.
    """
    by_code = {c.code: c for c in classes}
    if len(by_code) != len(classes):
        dupes = sorted(k for k, n in Counter(c.code for c in classes).items() if n > 1)
        raise EntityClassError(f"class codes appear twice: {', '.join(dupes)}")
    counts = Counter(c.level for c in classes)
    if dict(counts) != LEVEL_COUNTS:
        raise EntityClassError(f"the classification has {dict(counts)} classes, not {LEVEL_COUNTS}")
    for c in classes:
        parent = by_code.get(c.parent_code) if c.parent_code else None
        if c.parent_code and parent is None:
            raise EntityClassError(f"class {c.code}: its parent {c.parent_code} is missing")
        if parent and parent.geometry_type not in ("any", c.geometry_type):
            raise EntityClassError(
                f"class {c.code} expects {c.geometry_type} but its parent {parent.code} "
                f"expects {parent.geometry_type}"
            )


def read_classes(path: Path | None = None) -> list[EntityClass]:
    """Read and check the classification CSV (default :data:`DEFAULT_CLASSES_CSV`).

    Raises
    ------
    EntityClassError
        When the file is missing, lacks columns or breaks a rule of :func:`check_classes`.
    """
    path = path or DEFAULT_CLASSES_CSV
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise EntityClassError(f"cannot read the entity classes file {path}: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise EntityClassError(f"{path} lacks the columns {', '.join(missing)}")
    classes = [_row(n, rec) for n, rec in enumerate(reader, start=1)]
    check_classes(classes)
    return classes
