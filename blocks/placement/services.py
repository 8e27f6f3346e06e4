"""Service resources against population, per community (学位、医疗资源与人口分布匹配).

Facilities are compounds of a kind (``school``, ``clinic``, or any kind the data uses). A
facility's capacity is ``attrs.capacity`` when the data gives it, else an estimate from the
floor area of its buildings (:data:`AREA_PER_UNIT_M2`: 10 m² of school building per seat,
the order of the national primary-school norms; 60 m² of clinic building per daily patient
slot). People are the placed people per building (the counts the triggers keep); a building
is *covered* when its footprint lies within the straight-line distance of a facility
(metres in EPSG:4547). For each community: residents, covered residents, facilities,
capacity, capacity per 1,000 residents, and residents per unit of capacity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blocks.errors import PlacementInputError
from blocks.placement.repository import sql_text

if TYPE_CHECKING:
    import psycopg

#: Floor area (m²) that holds one unit of capacity, by facility kind, when no capacity is given.
AREA_PER_UNIT_M2 = {"school": 10.0, "clinic": 60.0}
#: Straight-line distance (m) a facility serves by default, by kind.
DEFAULT_RADIUS_M = {"school": 1_000.0, "clinic": 1_500.0}
_OTHER_AREA, _OTHER_RADIUS = 50.0, 1_000.0


def service_analysis(
    conn: psycopg.Connection[Any],
    kind: str,
    radius_m: float | None = None,
    within: str | None = None,
) -> dict[str, Any]:
    """Return facilities of ``kind`` against residents within ``radius_m``, per community.

    ``within`` limits the answer to a district, street or community code.

    Raises
    ------
    PlacementInputError
        When no compound has this kind.
    """
    radius = radius_m if radius_m is not None else DEFAULT_RADIUS_M.get(kind, _OTHER_RADIUS)
    known = conn.execute("SELECT 1 FROM twin.compound WHERE kind = %s LIMIT 1", (kind,))
    if known.fetchone() is None:
        kinds = [r[0] for r in conn.execute("SELECT DISTINCT kind FROM twin.compound ORDER BY 1")]
        raise PlacementInputError(f"no facility is of kind {kind!r} (kinds: {', '.join(kinds)})")
    params = {"kind": kind, "radius": radius, "within": within or "",
              "area": AREA_PER_UNIT_M2.get(kind, _OTHER_AREA)}  # fmt: skip
    rows = conn.execute(sql_text("services.sql"), params).fetchall()
    communities = []
    for code, name, residents, covered, facilities, capacity in rows:
        cap = round(float(capacity or 0), 1)
        communities.append({
            "code": code, "name": name, "residents": residents, "covered_residents": covered,
            "uncovered_residents": residents - covered, "facilities": facilities,
            "capacity": cap,
            "capacity_per_1000": round(1000 * cap / residents, 1) if residents else None,
            "residents_per_unit": round(residents / cap, 2) if cap else None,
        })  # fmt: skip
    return {"kind": kind, "radius_m": radius, "area_per_unit_m2": params["area"],
            "communities": communities}  # fmt: skip
