"""The geocoder's in-memory index of the address library.

Built once from ``twin.address``, ``twin.address_alias`` and ``twin.admin_unit`` (one pass
over each, :func:`load_index`), or from plain rows in tests (:meth:`AddressIndex.add`). It
holds what matching needs and nothing else: the names (administrative units, roads,
compounds, and the alias names derived from the library's aliases) in an Aho–Corasick
automaton, the keys that lead from a road and door number, a compound and a building number,
a building and a room number to a code, and each code's administrative units. Texts and
locations of the matched codes are read from the database afterwards, a batch at a time.

Every name is stored as the normaliser writes it (``海富三巷`` → ``海富3巷``, ``A座`` → ``A栋``),
so that the same rules apply to the library and to the queries.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ahocorasick

from geocode.normalize import normalize
from twin.address_codes import address_level
from twin.errors import CodeError

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable

    import psycopg

logger = logging.getLogger(__name__)

#: Name kinds in the automaton, coarse to fine.
NAME_KINDS = ("province", "city", "district", "street", "community", "road", "compound")
#: Province and city names every Shenzhen address may start with.
PREFIX_NAMES = {"广东省": "province", "广东": "province", "深圳市": "city", "深圳": "city"}
_NUMBER = re.compile(r"[0-9]+|[A-Z]")
#: Library values that need no normalising: ASCII digits or a capital, then a marker.
_PLAIN = re.compile(r"^(?:[0-9]+|[A-Z])(?:号|栋|单元|层|室)?$")
_FILLER = "号栋楼座幢单元层室房户之第附"
_HAN_RUN = re.compile(r"[\u3400-\u9fff]{2,}")


def number_of(value: str | None) -> str | None:
    """Return the number (or letter) of ``12号``, ``A座``, ``3单元``, ``1203室``; None if none.

    Examples
    --------
    >>> number_of("12号"), number_of("A座"), number_of("七栋"), number_of(None)
    ('12', 'A', '7', None)
    """
    if not value:
        return None
    text = value if _PLAIN.match(value) else normalize(value, strip_relative=False).text
    found = _NUMBER.search(text)
    return found.group(0).lstrip("0") or "0" if found else None


@dataclass(frozen=True, slots=True)
class Place:
    """The administrative units of one code (any of them may be unknown)."""

    district: str | None
    street: str | None
    community: str | None


@dataclass(frozen=True, slots=True)
class NameHit:
    """What a name stands for: its kind, the code, and whether it is an alias name."""

    kind: str
    code: str
    alias: bool = False


@dataclass
class AddressIndex:
    """Names and keys of a standard address library (see the module docstring)."""

    names: dict[str, list[NameHit]] = field(default_factory=lambda: defaultdict(list))
    places: dict[str, Place] = field(default_factory=dict)
    levels: dict[str, str] = field(default_factory=dict)
    #: Full normalised texts (standard ones above the room, and every alias) → code.
    texts: dict[str, str] = field(default_factory=dict)
    #: road address code → road id; road id → road address code.
    road_of_id: dict[int, str] = field(default_factory=dict)
    #: (road code, door number) → door code.
    doors: dict[tuple[str, str], str] = field(default_factory=dict)
    #: compound id → compound code.
    compound_of_id: dict[int, str] = field(default_factory=dict)
    #: door code → compound codes behind it.
    compounds_at_door: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: compound code → its door code (if it has one).
    door_of_compound: dict[str, str] = field(default_factory=dict)
    #: (compound or door code, building number) → building code.
    buildings: dict[tuple[str, str], str] = field(default_factory=dict)
    #: building code → its compound or door code.
    building_parent: dict[str, str] = field(default_factory=dict)
    #: (building code, unit number) → unit code.
    units: dict[tuple[str, str], str] = field(default_factory=dict)
    #: building code → its floors and rooms packed in one string (see :meth:`rooms_of`):
    #: ``|F12:F012|R1203:1:000001|``; about 16 bytes a room, so the city's fit in memory.
    inside: dict[str, str] = field(default_factory=dict)
    _inside: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list), repr=False)
    _rooms: int = 0
    _automaton: Any = field(default=None, repr=False)
    _dirty: bool = field(default=True, repr=False)
    _pending: list[tuple[str, str, str, str]] = field(default_factory=list, repr=False)
    _scoped: dict[tuple[str, str], list[tuple[str, NameHit]]] | None = field(
        default=None, repr=False
    )

    # -- building ---------------------------------------------------------------------------

    def add_name(self, name: str, kind: str, code: str, *, alias: bool = False) -> None:
        """Add a name (normalised here) that stands for ``code``."""
        key = normalize(name, strip_relative=False).text
        if len(key) < 2:
            return
        hit = NameHit(kind, code, alias)
        hits = self.names[key]
        if hit not in hits and NameHit(kind, code, not alias) not in hits:
            hits.append(hit)
        self._dirty = True
        self._scoped = None

    def add_admin(self, code: str, level: str, name: str, parent: Place | None = None) -> None:
        """Add a district, street or community."""
        p = parent or Place(None, None, None)
        place = {
            "district": Place(code, None, None),
            "street": Place(p.district or code[:6], code, None),
            "community": Place(p.district or code[:6], p.street or code[:9], code),
        }.get(level)
        if place is None:
            return
        self.places[code] = place
        self.levels[code] = level
        self.add_name(name, level, code)

    def add(self, row: dict[str, Any]) -> None:
        """Add one standard address row (the columns of :data:`ADDRESS_SQL`)."""
        code, level = row["code"], row["level"]
        if level not in ("floor", "room"):  # those follow from their building (:meth:`level`)
            self.levels[code] = level
            self.places[code] = Place(
                row["district_code"], row["street_code"], row["community_code"]
            )
        if level not in ("room", "floor") and row.get("text"):
            self.texts.setdefault(normalize(row["text"], strip_relative=False).text, code)
        road_id, door_no = row.get("road_id"), number_of(row.get("door_no"))
        building = row.get("building_code")
        if level == "road":
            if road_id is not None:
                self.road_of_id[road_id] = code
            if row.get("road"):
                self.add_name(row["road"], "road", code)
        elif level == "door" and road_id is not None and door_no:
            self._pending.append(("door", code, str(road_id), door_no))
        elif level == "compound":
            if row.get("compound_id") is not None:
                self.compound_of_id[row["compound_id"]] = code
            if row.get("poi"):
                self.add_name(row["poi"], "compound", code)
            if row.get("parent_code") and row["parent_code"] != row["community_code"]:
                self.door_of_compound[code] = row["parent_code"]
                self.compounds_at_door[row["parent_code"]].append(code)
        elif level == "building" and building:
            bno = number_of(row.get("building")) or ""
            self.building_parent[building] = row["parent_code"] or ""
            self.buildings[(row["parent_code"] or "", bno)] = code
        elif level == "unit" and building:
            self.units[(building, number_of(row.get("unit")) or "")] = code
        elif level == "floor" and building and row.get("floor_no") is not None:
            self._inside[building].append(f"F{int(row['floor_no'])}:{_ref(building, code)}")
        elif level == "room" and building:
            room_no = number_of(row.get("room")) or ""
            unit = number_of(row.get("unit")) or ""
            self._inside[building].append(f"R{room_no}:{unit}:{_ref(building, code)}")
            self._rooms += 1

    def finish(self) -> None:
        """Resolve the keys that need other rows (doors need their road's code)."""
        for _, code, road_id, door_no in self._pending:
            road = self.road_of_id.get(int(road_id))
            if road is not None:
                self.doors[(road, door_no)] = code
        self._pending.clear()
        for building, entries in self._inside.items():
            self.inside[building] = "|" + "|".join(entries) + "|"
        self._inside.clear()

    def rooms_of(self, building: str, room_no: str) -> list[tuple[str, str]]:
        """Return ``(unit number or "", room code)`` of a building's rooms with this number."""
        packed = self.inside.get(building, "")
        key = f"|R{room_no}:"
        out, at = [], packed.find(key)
        while at >= 0:
            end = packed.index("|", at + 1)
            _, unit, ref = packed[at + 1 : end].split(":")
            out.append((unit, _unref(building, ref)))
            at = packed.find(key, end)
        return out

    def floor_of(self, building: str, floor_no: int) -> str | None:
        """Return the code of a building's floor, or None."""
        packed = self.inside.get(building, "")
        at = packed.find(f"|F{floor_no}:")
        if at < 0:
            return None
        end = packed.index("|", at + 1)
        return _unref(building, packed[at + 1 : end].split(":")[1])

    def level(self, code: str | None) -> str | None:
        """Return the level of a code the index holds (floors and rooms by their shape)."""
        if not code:
            return None
        found = self.levels.get(code)
        if found is None and len(code) > 19 and code[:19] in self.building_parent:
            with contextlib.suppress(CodeError):
                return address_level(code)
        return found

    def add_alias(self, code: str, text: str) -> None:
        """Add an alias of ``code``: its whole text, and the new name it brings.

        An alias's text is matched exactly; the run of Chinese characters in it that no known
        name explains (``汇港工业区`` in ``宝安区汇港工业区2栋``) becomes an alias name of the
        address's compound, or of its road for roads and doors.
        """
        norm = normalize(text, strip_relative=False).text
        self.texts.setdefault(norm, code)
        target = self._alias_target(code)
        if target is None:
            return
        covered = [False] * len(norm)
        # The automaton as it was: alias names added since do not cover (they are compounds').
        auto = self._automaton if self._automaton is not None else self.automaton()
        for end, (name, hits) in auto.iter_long(norm):
            if all(h.kind == "compound" for h in hits) or len(name) < 3:
                continue  # another compound's name may be part of this one's alias
            for i in range(end - len(name) + 1, end + 1):
                covered[i] = True
        rest = "".join(ch if not covered[i] else " " for i, ch in enumerate(norm))
        runs = [r.rstrip(_FILLER) for r in _HAN_RUN.findall(rest)]
        runs = [r for r in runs if len(r) >= 2]
        if len(runs) == 1:
            self.add_name(runs[0], self.levels.get(target, "compound"), target, alias=True)

    def _alias_target(self, code: str) -> str | None:
        level = self.level(code)
        if level in ("road", "compound"):
            return code
        if level in ("building", "unit", "floor", "room"):
            parent = self.building_parent.get(code[:19])
            if parent is not None and self.levels.get(parent) == "compound":
                return parent
        return None

    def automaton(self) -> Any:
        """Return the Aho–Corasick automaton of every name (built on first use after a change)."""
        if self._automaton is None or self._dirty:
            auto = ahocorasick.Automaton()
            for prefix, kind in PREFIX_NAMES.items():
                auto.add_word(prefix, (prefix, [NameHit(kind, "")]))
            for name, hits in self.names.items():
                auto.add_word(name, (name, hits))
            auto.make_automaton()
            self._automaton, self._dirty = auto, False
        return self._automaton

    # -- reading ----------------------------------------------------------------------------

    def names_in(self, kind: str, area: str | None) -> list[tuple[str, NameHit]]:
        """Names of one kind (road, compound) whose address lies in an admin unit (or all)."""
        if self._scoped is None:
            scoped: dict[tuple[str, str], list[tuple[str, NameHit]]] = defaultdict(list)
            for name, hits in self.names.items():
                for hit in hits:
                    if hit.kind not in ("road", "compound"):
                        continue
                    p = self.place(hit.code)
                    scoped[(hit.kind, "")].append((name, hit))
                    for unit in {p.district, p.street, p.community} - {None}:
                        scoped[(hit.kind, str(unit))].append((name, hit))
            self._scoped = dict(scoped)
        return self._scoped.get((kind, area or ""), [])

    def place(self, code: str) -> Place:
        """Return the administrative units of a code (unknown ones as None)."""
        return self.places.get(code) or self.places.get(code[:19]) or Place(None, None, None)

    def stats(self) -> dict[str, int]:
        """Sizes, for logs and the benchmark."""
        return {
            "names": len(self.names),
            "texts": len(self.texts),
            "doors": len(self.doors),
            "buildings": len(self.buildings),
            "rooms": self._rooms,
        }


#: One pass over the current standard addresses.
ADDRESS_SQL = """
SELECT code, level, text, parent_code, district_code, street_code, community_code,
       road_id, door_no, compound_id, building_code, unit_no, floor_no,
       elements->>'road' AS road, elements->>'poi' AS poi, elements->>'building' AS building,
       coalesce(elements->>'unit', unit_no) AS unit, elements->>'room' AS room
FROM twin.address WHERE status <> 'retired'
ORDER BY CASE level WHEN 'road' THEN 0 WHEN 'door' THEN 1 WHEN 'compound' THEN 2
                    WHEN 'building' THEN 3 ELSE 4 END"""
ALIAS_SQL = """
SELECT a.address_code, a.text FROM twin.address_alias a
JOIN twin.address d ON d.code = a.address_code WHERE d.status <> 'retired' ORDER BY a.id"""
#: Aliases stored since a moment (less a margin for transactions that were still open).
NEW_ALIAS_SQL = """
SELECT a.address_code, a.text, now() FROM twin.address_alias a
JOIN twin.address d ON d.code = a.address_code
WHERE d.status <> 'retired' AND a.created_at >= %s - interval '10 minutes' ORDER BY a.id"""
ADMIN_SQL = """
SELECT code, level, name FROM twin.admin_unit
WHERE level IN ('district', 'street', 'community') ORDER BY length(code), code"""


def _ref(building: str, code: str) -> str:
    """Return a code as stored in its building's entry: the suffix, or ``=`` and the code."""
    return code[len(building) :] if code.startswith(building) else "=" + code


def _unref(building: str, ref: str) -> str:
    return ref[1:] if ref.startswith("=") else building + ref


def build_index(
    admin: Iterable[tuple[str, str, str]],
    addresses: Iterable[dict[str, Any]],
    aliases: Iterable[tuple[str, str]],
) -> AddressIndex:
    """Build an index from admin units, address rows and (code, alias text) pairs."""
    index = AddressIndex()
    for code, level, name in admin:
        index.add_admin(code, level, name)
    for row in addresses:
        index.add(row)
    index.finish()
    for code, text in aliases:
        index.add_alias(code, text)
    index.automaton()
    return index


def load_index(conn: psycopg.Connection[Any]) -> AddressIndex:
    """Read the library from the database into an index (one pass over each table)."""
    from psycopg.rows import dict_row

    admin = conn.execute(ADMIN_SQL).fetchall()
    aliases = conn.execute(ALIAS_SQL).fetchall()
    with conn.cursor(row_factory=dict_row) as cur:
        index = build_index(admin, cur.execute(ADDRESS_SQL), aliases)
    logger.info("geocoder index: %s", index.stats())
    return index


def library_time(conn: psycopg.Connection[Any]) -> dt.datetime:
    """Return the database's time of the current transaction (when its snapshot was taken)."""
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    moment: dt.datetime = row[0]
    return moment


def add_new_aliases(
    conn: psycopg.Connection[Any], index: AddressIndex, since: dt.datetime
) -> dt.datetime:
    """Teach ``index`` the aliases stored since ``since``; return the time to ask from next.

    An index kept in another process than the one that stores corrections (a job worker)
    calls this before each job, so a job matches every correction saved before it started.
    Alias ids are not in creation order (bulk loads choose their own), hence the time; an
    alias of the last minutes may be taught twice, which changes nothing.
    """
    rows = conn.execute(NEW_ALIAS_SQL, (since,)).fetchall()
    if not rows:
        return library_time(conn)
    for code, text, _ in rows:
        index.add_alias(code, text)
    index.automaton()
    moment: dt.datetime = rows[0][2]
    return moment
