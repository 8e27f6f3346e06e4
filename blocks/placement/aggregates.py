"""Counts by block and kind, as the triggers keep them: a block, its parents, its children.

``twin.block_counts`` (0002) holds people, companies and events per block code at every
level; ``twin.block_facet_counts`` (0011) breaks them down by facet: people registered
(household) and renting, companies by industry, events by type and by status. Both are kept
by statement-level triggers on ``twin.placement``, so a read is a few index look-ups.
:func:`recount_differences` recounts everything from the placements and lists what differs
(nothing, unless a trigger was bypassed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blocks.errors import PlacementNotFoundError
from blocks.placement.repository import sql_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    import psycopg

#: The levels a block code may have, by its length.
_LEVEL = {6: "district", 9: "street", 12: "community", 14: "grid", 19: "building", 25: "room"}
#: Children listed at most (a building's rooms).
MAX_CHILDREN = 2_000


def _shown(n: int, k: int) -> int | None:
    """Return a count as it may be shown: withheld below ``k`` (k > 0); zero is shown."""
    return n if n == 0 or k <= 0 or n >= k else None


def counts_of(
    conn: psycopg.Connection[Any], codes: Sequence[str], k: int = 0
) -> dict[str, dict[str, Any]]:
    """Return the counts of each code: people, companies and events with their breakdowns."""
    out: dict[str, dict[str, Any]] = {
        c: {"people": {"total": 0, "registered": 0, "renting": 0},
            "companies": {"total": 0, "by_industry": {}},
            "events": {"total": 0, "by_type": {}, "by_status": {}}}
        for c in codes
    }  # fmt: skip
    rows = conn.execute(
        "SELECT code, people, companies, events FROM twin.block_counts WHERE code = ANY(%s)",
        (list(codes),),
    ).fetchall()
    for code, people, companies, events in rows:
        c = out[code]
        c["people"]["total"], c["companies"]["total"] = people, companies
        c["events"]["total"] = events
    facets = conn.execute(
        "SELECT code, record_kind, facet, n FROM twin.block_facet_counts "
        "WHERE code = ANY(%s) AND n > 0 ORDER BY code, record_kind, facet",
        (list(codes),),
    ).fetchall()
    where = {("person", "residence"): ("people", None), ("legal_entity", "industry"):
             ("companies", "by_industry"), ("event", "type"): ("events", "by_type"),
             ("event", "status"): ("events", "by_status")}  # fmt: skip
    names = {"household": "registered", "rental": "renting", "other": "other"}
    for code, kind, facet, n in facets:
        key, value = facet.split(":", 1)
        group, sub = where.get((kind, key), (None, None))
        if group == "people":
            out[code]["people"][names.get(value, value)] = n
        elif group is not None and sub is not None:
            out[code][group][sub][value] = n
    return {code: _withhold(c, k) for code, c in out.items()}


def _withhold(counts: dict[str, Any], k: int) -> dict[str, Any]:
    if k <= 0:
        return counts
    return {key: _withhold(v, k) if isinstance(v, dict) else _shown(v, k)
            for key, v in counts.items()}  # fmt: skip


def _unit(conn: psycopg.Connection[Any], code: str) -> dict[str, Any] | None:
    row = conn.execute(sql_text("block_unit.sql"), {"code": code}).fetchone()
    if row is None:
        return None
    return {"code": row[0], "level": row[1], "name": row[2]}


def block_summary(conn: psycopg.Connection[Any], code: str, k: int = 0) -> dict[str, Any]:
    """Return a block (admin unit, building or room), its parents and its children, with counts.

    Counts below ``k`` are withheld (``None``) when ``k > 0``.

    Raises
    ------
    PlacementNotFoundError
        When no unit, building or room has this code.
    """
    unit = _unit(conn, code)
    if unit is None:
        raise PlacementNotFoundError(f"no district, street, community, grid, building or room "
                                     f"has code {code!r}")  # fmt: skip
    parents = [p for n in (6, 9, 12, 14, 19) if len(code) > n and (p := _unit(conn, code[:n]))]
    children = [
        {"code": r[0], "level": r[1], "name": r[2]}
        for r in conn.execute(sql_text("block_children.sql"),
                              {"code": code, "limit": MAX_CHILDREN}).fetchall()
    ]  # fmt: skip
    counts = counts_of(conn, [code] + [c["code"] for c in children], k)
    unit["counts"] = counts[code]
    for child in children:
        child["counts"] = counts[child["code"]]
    return {"unit": unit, "parents": parents, "children": children}


def recount_differences(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """Recount every block's counts from the placements; return the rows that differ."""
    return conn.execute(sql_text("recount.sql")).fetchall()
