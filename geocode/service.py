"""The geocoder as the command line and the API use it: a loaded index and the database.

:class:`Geocoder` holds the index (:mod:`geocode.index`) and answers texts with
:class:`~geocode.match.MatchResult` objects; :func:`describe` adds each matched code's
standard text and location from the database, a batch at a time; :func:`reverse` finds the
building a point falls in (or the nearest door within a radius).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from geocode.index import AddressIndex, load_index
from geocode.match import match
from twin.privacy import mask_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    import psycopg

    from geocode.match import MatchResult

#: The output columns a batch adds to every input row, in order.
RESULT_COLUMNS = ("code", "level", "standard_address", "lon", "lat", "confidence", "band",
                  "reason")  # fmt: skip
#: How far a point may be from a door for the reverse geocoder to name it, by default.
REVERSE_RADIUS_M = 50.0


class Geocoder:
    """Geocode texts against a loaded index; :meth:`add_alias` teaches it a new text."""

    def __init__(self, index: AddressIndex) -> None:
        self.index = index
        self._lock = threading.Lock()

    @classmethod
    def from_db(cls, conn: psycopg.Connection[Any]) -> Geocoder:
        """Load the whole library (current addresses and aliases) into a new geocoder."""
        return cls(load_index(conn))

    def geocode(self, text: str) -> MatchResult:
        """Match one text."""
        return match(self.index, text)

    def geocode_many(self, texts: Sequence[str]) -> list[MatchResult]:
        """Match texts in order."""
        index = self.index
        return [match(index, t) for t in texts]

    def add_alias(self, code: str, text: str) -> None:
        """Make ``text`` match ``code`` exactly from now on (after the alias is stored)."""
        with self._lock:
            self.index.add_alias(code, text)
            self.index.automaton()


@dataclass(frozen=True, slots=True)
class Described:
    """A matched code's standard text and location."""

    text: str | None
    lon: float | None
    lat: float | None


_DESCRIBE_SQL = """
SELECT code, text, ST_X(geom), ST_Y(geom) FROM twin.address WHERE code = ANY(%(codes)s)
UNION ALL
SELECT u.code, coalesce(d.text, u.name), ST_X(ST_PointOnSurface(u.geom)),
       ST_Y(ST_PointOnSurface(u.geom))
FROM twin.admin_unit u LEFT JOIN twin.address d ON d.code = u.code AND d.level = u.level
WHERE u.code = ANY(%(codes)s) AND d.code IS NULL"""


def describe(conn: psycopg.Connection[Any], codes: Sequence[str | None]) -> dict[str, Described]:
    """Return the standard text and location of each code (addresses and admin units)."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    rows = conn.execute(_DESCRIBE_SQL, {"codes": wanted}).fetchall()
    return {code: Described(text, lon, lat) for code, text, lon, lat in rows}


#: The other addresses of the buildings of some codes (their rooms, floors, units).
_SIBLINGS_SQL = """
UNION ALL
SELECT code, text, ST_X(geom), ST_Y(geom) FROM twin.address
WHERE building_code IN (SELECT building_code FROM twin.address
                        WHERE code = ANY(%(codes)s) AND building_code IS NOT NULL)"""


async def describe_async(
    conn: psycopg.AsyncConnection[Any], codes: Sequence[str | None], *, siblings: bool = False
) -> dict[str, Described]:
    """:func:`describe` on an asynchronous connection.

    With ``siblings``, the answer also describes every other address of the codes' buildings
    (in the same query): for a cache, the next rooms asked for are often in the same building.
    """
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    sql = _DESCRIBE_SQL + _SIBLINGS_SQL if siblings else _DESCRIBE_SQL
    cur = await conn.execute(sql, {"codes": wanted})
    return {code: Described(text, lon, lat) for code, text, lon, lat in await cur.fetchall()}


class DescribeCache:
    """Described codes kept in memory while a listener watches the library for changes.

    It answers only while ``active`` (set by whoever listens for the library's change
    notifications, and unset when that listener loses its connection), and holds at most
    ``max_codes`` codes (the oldest go first). A code the library does not know is kept too,
    as ``Described(None, None, None)``, exactly what :func:`result_record` uses for it.

    >>> cache = DescribeCache(max_codes=2)
    >>> cache.active = True
    >>> cache.store(cache.generation, ["A", "B"], {"A": Described("a", 1.0, 2.0)})
    >>> cache.lookup(["A", "B", None])
    {'A': Described(text='a', lon=1.0, lat=2.0), 'B': Described(text=None, lon=None, lat=None)}
    >>> cache.clear(); cache.lookup(["A"]) is None
    True
    """

    def __init__(self, max_codes: int = 200_000, *, siblings: bool = False) -> None:
        self.max_codes = max_codes
        #: Whether a miss also reads (and keeps) the other addresses of the code's building.
        self.siblings = siblings and max_codes > 0
        self.active = False
        #: Bumped by :meth:`clear`: an answer read from the database before a change is not
        #: stored after it.
        self.generation = 0
        self._codes: dict[str, Described] = {}

    def lookup(self, codes: Sequence[str | None]) -> dict[str, Described] | None:
        """Return every code's description, or None when one of them is not cached."""
        if not self.active:
            return None
        out: dict[str, Described] = {}
        for code in codes:
            if code:
                found = self._codes.get(code)
                if found is None:
                    return None
                out[code] = found
        return out

    def store(
        self, generation: int, codes: Sequence[str | None], described: dict[str, Described]
    ) -> None:
        """Keep what :func:`describe` answered for ``codes`` (read at ``generation``).

        Other codes ``described`` holds (a building's other addresses) are kept too.
        """
        if not self.active or generation != self.generation or self.max_codes <= 0:
            return
        unknown = Described(None, None, None)
        for code in [*described, *codes]:
            if code:
                if code not in self._codes and len(self._codes) >= self.max_codes:
                    del self._codes[next(iter(self._codes))]
                self._codes[code] = described.get(code, unknown)

    def clear(self) -> None:
        """Forget every code (the library changed, or changes may have been missed)."""
        self.generation += 1
        self._codes.clear()


def result_record(result: MatchResult, described: dict[str, Described]) -> dict[str, Any]:
    """Return the JSON record of one result: the match fields plus standard address and location.

    Phone and ID numbers are masked wherever the user's text is echoed: the input, its
    normalised form, the elements, the explanation's input pieces and the warnings.
    """
    d = described.get(result.code or "") or Described(None, None, None)
    rec = {"input": mask_text(result.input), "code": result.code, "level": result.level,
           "standard_address": d.text, "lon": d.lon, "lat": d.lat}  # fmt: skip
    out = rec | result.as_dict()
    out["normalized"] = mask_text(result.normalized)
    out["elements"] = {k: mask_text(v) for k, v in result.elements.items()}
    for step in out["explain"]:
        step["input"] = mask_text(step["input"])
    out["warnings"] = [mask_text(w) for w in result.warnings]
    return out


_REVERSE_BUILDING = """
SELECT b.code, a.text, ST_X(ST_PointOnSurface(b.footprint)), ST_Y(ST_PointOnSurface(b.footprint)),
       b.grid_code, b.floors, b.use
FROM twin.building b LEFT JOIN twin.address a ON a.code = b.code AND a.status <> 'retired'
WHERE ST_Intersects(b.footprint, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
ORDER BY ST_Area(b.footprint) LIMIT 1"""
_REVERSE_DOOR = """
SELECT a.code, a.text, ST_X(a.geom), ST_Y(a.geom),
       ST_Distance(a.geom::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography)
FROM twin.address a
WHERE a.level = 'door' AND a.status <> 'retired'
  AND ST_DWithin(a.geom::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
                 %(radius)s)
ORDER BY a.geom <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) LIMIT 1"""
_REVERSE_UNIT = """
SELECT code, level, name FROM twin.admin_unit
WHERE level IN ('district', 'street', 'community', 'grid')
  AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))"""


def reverse(
    conn: psycopg.Connection[Any], lon: float, lat: float, radius_m: float = REVERSE_RADIUS_M
) -> dict[str, Any]:
    """Return what lies at a WGS84 point: its building (or nearest door) and block path.

    The answer has ``code``, ``level`` (``building``, ``door`` or ``None``),
    ``standard_address``, ``lon``/``lat`` of the match, ``distance_m`` (0 inside a
    building) and ``block_path`` (district, street, community and grid codes and names).
    """
    params = {"lon": lon, "lat": lat, "radius": radius_m}
    out: dict[str, Any] = {"query": {"lon": lon, "lat": lat, "radius_m": radius_m},
                           "code": None, "level": None, "standard_address": None,
                           "lon": None, "lat": None, "distance_m": None}  # fmt: skip
    building = conn.execute(_REVERSE_BUILDING, params).fetchone()
    if building is not None:
        code, text, x, y, _, floors, use = building
        out |= {"code": code, "level": "building", "standard_address": text, "lon": x, "lat": y,
                "distance_m": 0.0, "floors": floors, "use": use}  # fmt: skip
    else:
        door = conn.execute(_REVERSE_DOOR, params).fetchone()
        if door is not None:
            code, text, x, y, dist = door
            out |= {"code": code, "level": "door", "standard_address": text, "lon": x, "lat": y,
                    "distance_m": round(float(dist), 2)}  # fmt: skip
    path = {level: {"code": code, "name": name}
            for code, level, name in conn.execute(_REVERSE_UNIT, params).fetchall()}  # fmt: skip
    out["block_path"] = {k: path.get(k) for k in ("district", "street", "community", "grid")}
    return out
