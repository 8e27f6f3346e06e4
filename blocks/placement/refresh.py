"""Re-placing only what changed: placements whose address was changed or retired since.

A placement points at the address it was placed on (``address_code``). When that address is
retired (merged, split, demolished) or changed after the placement was made (its block path
moved), only those placements are placed again, from what their records offered
(``placement.input``): by code (a retired code goes to its only successor), by address
(matched against the current library), by point. A reviewer's correction is re-placed from
the address the reviewer chose. Everything else is left alone.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from blocks.placement.locate import locate
from blocks.placement.model import PlaceInput
from blocks.placement.repository import PgPlacementRepository, sql_text

if TYPE_CHECKING:
    import psycopg

    from blocks.placement.locate import Matcher

_KIND = {"person": "person", "legal_entity": "company", "event": "event"}


@dataclass
class RefreshSummary:
    """What a refresh did."""

    affected: int = 0
    moved: int = 0
    bands: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def line(self) -> str:
        """One line for people."""
        b = self.bands
        return (f"{self.affected:,} placements affected by changed or retired addresses: "
                f"{self.moved:,} moved; {b['accept']:,} accepted, {b['review']:,} to review, "
                f"{b['reject']:,} rejected ({self.seconds:.1f} s)")  # fmt: skip


def _input(row: tuple[Any, ...]) -> PlaceInput:
    placement_id, _, given, method, address_code = row[:5]
    rec = PlaceInput(placement_id, None, given.get("code"), given.get("address"),
                     given.get("lon"), given.get("lat"))  # fmt: skip
    if method == "manual":  # the reviewer's choice stands: follow that address
        rec.code, rec.address, rec.lon, rec.lat = address_code, None, None, None
    return rec


def refresh_placements(
    conn: psycopg.Connection[Any], matcher: Matcher, actor: str
) -> RefreshSummary:
    """Re-place the placements of changed or retired addresses, in the caller's transaction."""
    started = time.perf_counter()
    rows = conn.execute(sql_text("refresh_affected.sql")).fetchall()
    summary = RefreshSummary(affected=len(rows))
    repo = PgPlacementRepository(conn)
    by_kind: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_kind.setdefault(row[1], []).append(row)
    for record_kind, group in by_kind.items():
        inputs = [_input(r) for r in group]
        located = locate(repo, matcher, inputs, _KIND[record_kind])
        before = {r[0]: r[5] for r in group}
        summary.moved += sum(before[i.row] != loc.path.deepest for i, loc in
                             zip(inputs, located, strict=True))  # fmt: skip
        summary.bands.update(loc.band for loc in located)
        p = [loc.path for loc in located]
        conn.execute(sql_text("refresh_update.sql"), {
            "ids": [i.row for i in inputs], "actor": actor,
            "district": [x.district for x in p], "street": [x.street for x in p],
            "community": [x.community for x in p], "grid": [x.grid for x in p],
            "building": [x.building for x in p], "floor": [x.floor_no for x in p],
            "room": [x.room for x in p], "address": [x.address_code for x in p],
            "method": [loc.method for loc in located],
            "confidence": [loc.confidence for loc in located],
            "band": [loc.band for loc in located],
            "warnings": [", ".join(f"{w.field}: {w.message}" for w in i.warnings)
                         for i in inputs],
        })  # fmt: skip
    summary.seconds = time.perf_counter() - started
    return summary
