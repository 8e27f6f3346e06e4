"""Where each record goes: by its code, else its address, else its coordinates.

1. **code**: a code the record carries (validated in :mod:`blocks.placement.prepare`) that
   names an address, room, building or unit: confidence 1. A retired address with one
   successor places the record at the successor (0.9, with a warning); with several, the
   record waits for review.
2. **geocode**: the address text through the geocoder; its confidence and band are kept.
3. **point**: the coordinates, point in polygon down to the building (0.95, accept); a point
   in no building but in a grid is accepted for events (they happen outdoors) and reviewed for
   people and companies (0.6), who live and work in buildings.

The coordinates are tried whenever the steps before did not give an accepted placement, and
win when they give one. Nothing to go by leaves the record rejected, with the reason.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from blocks.coding.model import RowProblem
from blocks.placement.model import NOWHERE, BlockPath, Located

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from blocks.placement.model import PlaceInput
    from blocks.placement.repository import CodePath, PlacementRepository
    from geocode.match import MatchResult

    Matcher = Callable[[list[str]], list[MatchResult]]

#: Confidence of a point inside a building, and of one only inside a grid (people, companies).
POINT_IN_BUILDING = 0.95
POINT_IN_UNIT = 0.6
#: Confidence of a retired code placed at its only successor.
SUCCESSOR = 0.9


def _by_code(rec: PlaceInput, known: dict[str, CodePath]) -> Located | None:
    assert rec.code is not None
    found = known.get(rec.code)
    if found is None:
        rec.warnings.append(RowProblem("code", f"no address, room, building or unit has code "
                                       f"{rec.code}"))  # fmt: skip
        return None
    if found.status != "retired":
        return Located(found.path, "code", 1.0, "accept")
    if len(found.successors) == 1:
        (successor,) = found.successors
        after = known.get(successor)
        if after is not None and after.status != "retired":
            rec.warnings.append(RowProblem("code", f"{rec.code} is retired: placed at its "
                                           f"successor {successor}"))  # fmt: skip
            return Located(after.path, "code", SUCCESSOR, "accept")
    shown = ", ".join(found.successors) or "none"
    return Located(found.path, "code", 0.5, "review",
                   f"code {rec.code} is retired (successors: {shown})")  # fmt: skip


def _codes(repo: PlacementRepository, rows: Sequence[PlaceInput]) -> dict[str, CodePath]:
    codes = sorted({r.code for r in rows if r.code})
    known = repo.paths(codes)
    successors = sorted({s for c in known.values() if c.status == "retired" for s in c.successors})
    return known | repo.paths([s for s in successors if s not in known])


def _by_geocode(result: MatchResult, known: dict[str, CodePath]) -> Located:
    found = known.get(result.code) if result.code else None
    path = found.path if found is not None else BlockPath()
    band = result.band if found is not None else "reject"
    reason = result.reason if found is not None else result.reason or "no address matched"
    return Located(path, "geocode", float(result.confidence), band, reason)  # type: ignore[arg-type]


@lru_cache(maxsize=1 << 16)
def _by_point(code: str, kind: str) -> Located:
    path = BlockPath.of_code(code)
    if path.building is not None:
        return Located(path, "point", POINT_IN_BUILDING, "accept")
    if kind == "event" and path.grid is not None:
        return Located(path, "point", POINT_IN_BUILDING, "accept")
    return Located(path, "point", POINT_IN_UNIT, "review", "the point lies in no building")


def locate(
    repo: PlacementRepository, matcher: Matcher, rows: Sequence[PlaceInput], kind: str
) -> list[Located]:
    """Place each row (valid or not: invalid rows are simply not stored); in order."""
    known = _codes(repo, rows)
    out: list[Located | None] = [_by_code(r, known) if r.code else None for r in rows]
    todo = [i for i, r in enumerate(rows) if out[i] is None and r.address]
    results = matcher([rows[i].address or "" for i in todo]) if todo else []
    matched = repo.paths(sorted({r.code for r in results if r.code}))
    for i, result in zip(todo, results, strict=True):
        out[i] = _by_geocode(result, matched)
    pending = [
        i
        for i, (r, o) in enumerate(zip(rows, out, strict=True))
        if r.lon is not None and r.lat is not None and (o is None or o.band != "accept")
    ]
    lon = np.fromiter((rows[i].lon for i in pending), np.float64, len(pending))
    lat = np.fromiter((rows[i].lat for i in pending), np.float64, len(pending))
    codes = repo.locate_xy(lon, lat).tolist()
    for i, code in zip(pending, codes, strict=True):
        if code is None:
            rows[i].warnings.append(RowProblem("lon/lat", "the point lies outside every unit"))
            continue
        by_point, before = _by_point(code, kind), out[i]
        if before is None or by_point.band == "accept" or before.band == "reject":
            out[i] = by_point
    return [o if o is not None else NOWHERE for o in out]
