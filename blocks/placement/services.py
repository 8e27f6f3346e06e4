"""Service resources against population, per community (学位、医疗资源与人口分布匹配).

Facilities are compounds of a kind (``school``, ``clinic``, or any kind the data uses). A
facility's capacity is ``attrs.capacity`` when the data gives it, else an estimate from the
floor area of its buildings (:data:`AREA_PER_UNIT_M2`: 10 m² of school building per seat,
the order of the national primary-school norms; 60 m² of clinic building per daily patient
slot). People are the placed people per building (the counts the triggers keep); a building
is *covered* when its footprint lies within the distance of a facility: the straight line
(metres in EPSG:4547, the default) or the walk over the roads (``distance="walking"``:
:mod:`blocks.placement.walking`; a walk is never shorter than the straight line). For each
community: residents, covered residents, facilities, capacity, capacity per 1,000
residents, and residents per unit of capacity.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import shapely

from blocks.errors import PlacementInputError
from blocks.placement.repository import sql_text
from blocks.placement.walking import metric, road_graph

if TYPE_CHECKING:
    import psycopg

#: Floor area (m²) that holds one unit of capacity, by facility kind, when no capacity is given.
AREA_PER_UNIT_M2 = {"school": 10.0, "clinic": 60.0}
#: Straight-line distance (m) a facility serves by default, by kind.
DEFAULT_RADIUS_M = {"school": 1_000.0, "clinic": 1_500.0}
_OTHER_AREA, _OTHER_RADIUS = 50.0, 1_000.0
#: How distance is measured: along a straight line, or walking over the roads.
DISTANCES = ("straight", "walking")


def walking_covered(
    conn: psycopg.Connection[Any], kind: str, radius_m: float, within: str = ""
) -> Counter[str]:
    """Return per community the residents within a walk of ``radius_m`` of a facility."""
    rows = conn.execute(sql_text("services_walk.sql"), {"kind": kind, "within": within})
    fetched = rows.fetchall()
    geoms = metric(shapely.from_wkb([r[3] for r in fetched]))
    facilities = [g for r, g in zip(fetched, geoms, strict=True) if r[0] == "facility"]
    housed = [(r[1], r[2], g) for r, g in zip(fetched, geoms, strict=True) if r[0] == "housed"]
    walk = road_graph(conn).nearest_walk(facilities, [g for *_, g in housed], limit=radius_m)
    covered: Counter[str] = Counter()
    for (community, people, _), metres in zip(housed, walk, strict=True):
        if metres <= radius_m:
            covered[community] += people
    return covered


def service_analysis(
    conn: psycopg.Connection[Any],
    kind: str,
    radius_m: float | None = None,
    within: str | None = None,
    distance: str = "straight",
) -> dict[str, Any]:
    """Return facilities of ``kind`` against residents within ``radius_m``, per community.

    ``within`` limits the answer to a district, street or community code; ``distance`` is
    ``straight`` (the default) or ``walking``.

    Raises
    ------
    PlacementInputError
        When no compound has this kind, or the distance is neither.
    """
    if distance not in DISTANCES:
        raise PlacementInputError(f"distance must be straight or walking, not {distance!r}")
    radius = radius_m if radius_m is not None else DEFAULT_RADIUS_M.get(kind, _OTHER_RADIUS)
    known = conn.execute("SELECT 1 FROM twin.compound WHERE kind = %s LIMIT 1", (kind,))
    if known.fetchone() is None:
        kinds = [r[0] for r in conn.execute("SELECT DISTINCT kind FROM twin.compound ORDER BY 1")]
        raise PlacementInputError(f"no facility is of kind {kind!r} (kinds: {', '.join(kinds)})")
    params = {"kind": kind, "radius": radius, "within": within or "",
              "area": AREA_PER_UNIT_M2.get(kind, _OTHER_AREA)}  # fmt: skip
    rows = conn.execute(sql_text("services.sql"), params).fetchall()
    walked = walking_covered(conn, kind, radius, within or "") if distance == "walking" else None
    communities = []
    for code, name, residents, straight, facilities, capacity in rows:
        covered = straight if walked is None else walked[code]
        cap = round(float(capacity or 0), 1)
        communities.append({
            "code": code, "name": name, "residents": residents, "covered_residents": covered,
            "uncovered_residents": residents - covered, "facilities": facilities,
            "capacity": cap,
            "capacity_per_1000": round(1000 * cap / residents, 1) if residents else None,
            "residents_per_unit": round(residents / cap, 2) if cap else None,
        })  # fmt: skip
    return {"kind": kind, "distance": distance, "radius_m": radius,
            "area_per_unit_m2": params["area"], "communities": communities}  # fmt: skip
