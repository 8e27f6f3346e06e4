"""Two adjacent communities of Guangming street (光明街道, 光明区) for the coding tests.

Community A (光明社区, 440311001001) is the square [X0, X0 + D] × [Y0, Y0 + D]; community B
(碧眼社区, 440311001002) is the square east of it: they share the edge x = X0 + D. The
street and the district cover both.
"""

from __future__ import annotations

from typing import Any

import psycopg

from shapely import Polygon, box

X0, Y0, D = 113.930, 22.760, 0.01
DISTRICT, STREET = "440311", "440311001"
A, B = "440311001001", "440311001002"
SQUARE_A = box(X0, Y0, X0 + D, Y0 + D)
SQUARE_B = box(X0 + D, Y0, X0 + 2 * D, Y0 + D)
BOTH = box(X0, Y0, X0 + 2 * D, Y0 + D)
#: Metres in degrees near Y0, for offsets in the tests.
M_LON, M_LAT = 1 / (111_319.5 * 0.9222), 1 / 110_574.0


def seed_communities(conn: psycopg.Connection[Any]) -> None:
    """Insert the district, street and the two communities."""
    for code, level, parent, name, shape in [
        (DISTRICT, "district", None, "光明区", BOTH),
        (STREET, "street", DISTRICT, "光明街道", BOTH),
        (A, "community", STREET, "光明社区", SQUARE_A),
        (B, "community", STREET, "碧眼社区", SQUARE_B),
    ]:
        conn.execute(
            "INSERT INTO twin.admin_unit (code, level, name, parent_code, geom) VALUES "
            "(%s, %s, %s, %s, ST_Multi(ST_GeomFromText(%s, 4326)))",
            (code, level, name, parent, shape.wkt),
        )


def footprint(x: float, y: float, w_m: float = 20.0, h_m: float = 15.0) -> Polygon:
    """A building footprint of ``w_m`` × ``h_m`` metres with its south-west corner at (x, y)."""
    return box(x, y, x + w_m * M_LON, y + h_m * M_LAT)


def clean_committed(conninfo: str) -> None:
    """Remove what committed tests left: entities, links, counters and the communities."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET twin.bulk = 'on'")
        conn.execute("DELETE FROM twin.entity_link")
        conn.execute("DELETE FROM twin.geo_entity")
        # The counters refuse DELETE (they only grow); tests start from scratch with TRUNCATE.
        conn.execute("TRUNCATE twin.entity_code_counter")
        conn.execute(
            "DELETE FROM twin.admin_unit WHERE code = ANY(%s)", ([A, B, STREET, DISTRICT],)
        )
